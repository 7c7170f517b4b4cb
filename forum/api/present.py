"""Models to response schemas. Lists are built with a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app

from forum.accounts.models import User
from forum.api import schemas
from forum.ideas import services
from forum.ideas.models import Board, Comment, Idea, Status, StatusChange, Tag, Vote
from forum.text import render_markdown


def page_url(idea: Idea) -> str:
    # BASE_URL, not the request's Host header: links handed to other tools must point at the
    # site's public address whatever proxy the call came through. Built without the request,
    # so that webhook events written by CLI commands (set-status) carry the same links.
    path = current_app.url_map.bind("localhost").build("ideas.show", {"idea_id": idea.id})
    return current_app.config["BASE_URL"].rstrip("/") + path


def person(user: User) -> schemas.Person:
    return schemas.Person(id=user.id, name=user.name)


def ideas(items: Sequence[Idea], viewer: User | None) -> list[schemas.IdeaOut]:
    merged = services.merged_ids(items)
    signed_in = viewer is not None and viewer.is_authenticated
    voted = services.voted_idea_ids(viewer, [services.canonical(i) for i in items])
    out = []
    for idea in items:
        fields = dict(
            id=idea.id, title=idea.title, body=idea.body, body_html=str(render_markdown(idea.body)),
            status=idea.status.slug, board=idea.board.slug, tags=[t.slug for t in idea.tags],
            votes=idea.vote_count, comments=idea.comment_count, author=person(idea.author),
            created_at=idea.created_at, updated_at=idea.updated_at,
            merged_into=idea.merged_into_id, merged=merged[idea.id], url=page_url(idea),
        )
        if signed_in:
            fields["voted"] = services.canonical(idea).id in voted
        out.append(schemas.IdeaOut(**fields))
    return out


def idea(item: Idea, viewer: User | None) -> schemas.IdeaOut:
    return ideas([item], viewer)[0]


def comment(item: Comment) -> schemas.CommentOut:
    return schemas.CommentOut(
        id=item.id, idea=item.idea_id, body=item.body, body_html=str(render_markdown(item.body)),
        author=person(item.author), internal=item.is_internal, created_at=item.created_at,
    )


def voter(vote: Vote) -> schemas.Voter:
    return schemas.Voter(email=vote.user.email, name=vote.user.name, source=vote.source.value,
                         voted_at=vote.created_at)


def history_entry(change: StatusChange) -> schemas.HistoryEntry:
    return schemas.HistoryEntry(
        from_=change.from_status.slug if change.from_status else None, to=change.to_status.slug,
        note=change.note, by=person(change.changed_by) if change.changed_by else None,
        at=change.created_at,
    )


def status(item: Status) -> schemas.StatusOut:
    return schemas.StatusOut(slug=item.slug, name=item.name, kind=item.kind.value,
                             color=item.color, on_roadmap=item.on_roadmap)


def board(item: Board) -> schemas.BoardOut:
    return schemas.BoardOut(slug=item.slug, name=item.name, description=item.description,
                            visibility=item.visibility.value)


def tag(item: Tag) -> schemas.TagOut:
    return schemas.TagOut(slug=item.slug, name=item.name, color=item.color)
