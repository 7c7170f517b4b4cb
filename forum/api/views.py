"""The ``/api/v1`` calls of CONTRACT.md. Each handler parses (via ``endpoint``), calls one
service, commits once and serialises; the rules live in the services."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from forum import dbtuning, pagecache
from forum.accounts.models import User
from forum.api import features, present
from forum.api import schemas as s
from forum.api.auth import WRITE_METHODS, authenticate, caller_key
from forum.api.openapi import describe, document, fields_of
from forum.api.routing import Who, endpoint
from forum.errors import NotFound, ValidationError
from forum.extensions import db, limiter
from forum.ideas import queries, services
from forum.ideas.models import Board, Idea, Status, Tag, VoteSource
from forum.web import paginate

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate)

# Writes are limited twice: per caller (token, else signed-in person, else address) and per
# address, so that many tokens behind one address cannot flood the site either.
limiter.limit(lambda: current_app.config["API_WRITE_LIMIT_PER_TOKEN"], key_func=caller_key,
              methods=sorted(WRITE_METHODS), scope="api-write-caller")(bp)
limiter.limit(lambda: current_app.config["API_WRITE_LIMIT_PER_ADDRESS"],
              methods=sorted(WRITE_METHODS), scope="api-write-address")(bp)

IDEAS, VOTES, COMMENTS, STATUS, LISTS = "Ideas", "Votes", "Comments", "Status", "Lists"


def _viewer() -> User | None:
    return current_user if current_user.is_authenticated else None


def _idea(idea_id: int) -> Idea:
    return services.get_visible_idea(idea_id, _viewer())


def _board(slug: str) -> Board:
    # An unknown board and one the caller may not see answer alike, so nothing leaks.
    board = next((b for b in services.visible_boards(_viewer()) if b.slug == slug), None)
    if board is None:
        raise ValidationError("Unknown board.", {"board": f"No board called {slug!r}."})
    return board


def _status(slug: str) -> Status:
    try:
        return services.find_status(slug)
    except NotFound as error:
        raise ValidationError(error.message, {"status": "Unknown status."}) from None


def _tag(slug: str) -> Tag:
    try:
        return services.find_tags([slug])[0]
    except ValidationError as error:
        raise ValidationError(error.message, {"tag": f"No tag called {slug!r}."}) from None


def _api_url(endpoint_name: str, **values) -> str:
    return url_for(endpoint_name, _external=True, **values)


# --- ideas ---------------------------------------------------------------------------------

@endpoint(bp, "GET", "/ideas", summary="List ideas", who=Who.ANYONE, tag=IDEAS,
          query=s.IdeaListQuery, ok=(200, s.IdeaPage), for_visitors=True,
          description="Canonical ideas of the boards the caller can see; `q` narrows them to "
                      "full-text matches (words stemmed in English, French and Italian).")
def list_ideas(query: s.IdeaListQuery):
    viewer = _viewer()
    boards = [_board(query.board)] if query.board else services.visible_boards(viewer)
    select = queries.idea_list(
        boards, sort=query.sort, status=_status(query.status) if query.status else None,
        tag=_tag(query.tag) if query.tag else None,
    )
    if query.q:
        select = features.search(select, query.q, viewer)
        pagecache.incomplete()  # the search index is not part of the cache's key
    # Tags in one query for the whole page instead of one per idea.
    page = paginate(select.options(selectinload(Idea.tags)), query.page, query.per_page)
    return s.IdeaPage(items=present.ideas(page.items, viewer), total=page.total, page=page.page,
                      per_page=page.per_page)


@endpoint(bp, "POST", "/ideas", summary="Post an idea", who=Who.SIGNED_IN, tag=IDEAS,
          body=s.IdeaIn, ok=(201, s.IdeaOut), errors=(403, 409),
          description="The author's vote is cast and the author follows the idea.")
def create_idea(body: s.IdeaIn):
    boards = services.visible_boards(current_user)
    if body.board:
        board = _board(body.board)
    elif boards:
        board = boards[0]
    else:
        raise ValidationError("Choose a board.", {"board": "No board is open to you."})
    idea = services.submit_idea(current_user, title=body.title, body=body.body, board=board,
                                tags=services.find_tags(body.tags))
    db.session.commit()
    return (present.idea(idea, current_user), 201,
            {"Location": _api_url("api.get_idea", idea_id=idea.id)})


@endpoint(bp, "GET", "/ideas/<int:idea_id>", summary="Get an idea", who=Who.ANYONE, tag=IDEAS,
          ok=(200, s.IdeaOut),
          description="A merged idea answers 200 with `merged_into` set.")
def get_idea(idea_id: int):
    return present.idea(_idea(idea_id), _viewer())


@endpoint(bp, "PATCH", "/ideas/<int:idea_id>", summary="Edit an idea", who=Who.SIGNED_IN,
          tag=IDEAS, body=s.IdeaPatch, ok=(200, s.IdeaOut), errors=(403,),
          description="Staff, or the author while no staff has acted on the idea. Fields left "
                      "out keep their value.")
def patch_idea(idea_id: int, body: s.IdeaPatch):
    idea = _idea(idea_id)
    services.edit_idea(
        idea, current_user,
        title=body.title if body.title is not None else idea.title,
        body=body.body if body.body is not None else idea.body,
        board=_board(body.board) if body.board else None,
        tags=services.find_tags(body.tags) if body.tags is not None else None,
    )
    db.session.commit()
    return present.idea(idea, current_user)


# --- votes ---------------------------------------------------------------------------------

@endpoint(bp, "POST", "/ideas/<int:idea_id>/vote", summary="Vote", who=Who.SIGNED_IN,
          tag=VOTES, ok=(200, s.VoteState), errors=(403, 409),
          description="Idempotent. Voting on a merged idea votes on its canonical idea; voting "
                      "is closed (409) once an idea is complete or closed.", reads_first=True)
def vote(idea_id: int):
    idea = _idea(idea_id)
    dbtuning.begin_writing()
    target, _added = services.cast_vote(idea, current_user, source=VoteSource.API)
    services.require_visible(target, current_user)  # as read again under the lock
    db.session.commit()
    return s.VoteState(voted=True, votes=target.vote_count)


@endpoint(bp, "DELETE", "/ideas/<int:idea_id>/vote", summary="Withdraw a vote",
          who=Who.SIGNED_IN, tag=VOTES, ok=(200, s.VoteState), errors=(409,),
          description="Idempotent.", reads_first=True)
def unvote(idea_id: int):
    idea = _idea(idea_id)
    dbtuning.begin_writing()
    target, _removed = services.withdraw_vote(idea, current_user)
    services.require_visible(target, current_user)  # as read again under the lock
    db.session.commit()
    return s.VoteState(voted=False, votes=target.vote_count)


@endpoint(bp, "POST", "/ideas/<int:idea_id>/votes", summary="Vote on behalf of a customer",
          who=Who.STAFF, tag=VOTES, body=s.VoteOnBehalfIn, ok=(201, s.Voter),
          also={200: s.Voter}, errors=(409,),
          description="The customer is found by email, or created without a password. 201 when "
                      "the vote is new, 200 when the customer had already voted.")
def vote_on_behalf(idea_id: int, body: s.VoteOnBehalfIn):
    _target, vote, added = services.vote_on_behalf(
        _idea(idea_id), body.email, source=VoteSource(body.source), by=current_user,
        tell=body.tell)
    db.session.commit()
    return (present.voter(vote), 201 if added else 200,
            {"Location": _api_url("api.list_voters", idea_id=idea_id)})


@endpoint(bp, "GET", "/ideas/<int:idea_id>/voters", summary="List voters", who=Who.STAFF,
          tag=VOTES, ok=(200, list[s.Voter]),
          description="Everyone who counts in the idea's votes, including votes on ideas "
                      "merged into it, earliest first.")
def list_voters(idea_id: int):
    return [present.voter(v) for v in services.voters(_idea(idea_id))]


# --- status and merge ----------------------------------------------------------------------

@endpoint(bp, "POST", "/ideas/<int:idea_id>/status", summary="Change the status",
          who=Who.STAFF, tag=STATUS, body=s.StatusChangeIn, ok=(200, s.StatusChangeResult),
          errors=(409,),
          description="409 where the workflow forbids the move, 422 where a note is required "
                      "(closing statuses such as `declined`). Voters are notified.")
def change_status(idea_id: int, body: s.StatusChangeIn):
    change = services.change_status(_idea(idea_id), _status(body.status), current_user,
                                    note=body.note, via="api")
    db.session.commit()
    idea = db.session.get(Idea, change.idea_id)
    return s.StatusChangeResult(idea=present.idea(idea, current_user),
                                notified=change.notified_count)


@endpoint(bp, "GET", "/ideas/<int:idea_id>/history", summary="Status history",
          who=Who.ANYONE, tag=STATUS, ok=(200, list[s.HistoryEntry]))
def history(idea_id: int):
    idea = services.canonical(_idea(idea_id))
    return [present.history_entry(c) for c in services.status_history(idea)]


@endpoint(bp, "POST", "/ideas/<int:idea_id>/merge", summary="Merge into another idea",
          who=Who.STAFF, tag=STATUS, body=s.MergeIn, ok=(200, s.IdeaOut), errors=(409,),
          description="Answers the canonical idea after the change.")
def merge(idea_id: int, body: s.MergeIn):
    idea = _idea(idea_id)
    try:
        into = _idea(body.into)
    except NotFound:
        raise ValidationError("Unknown idea.", {"into": "No idea with that number."}) from None
    canonical = features.merge(idea, into, current_user)
    db.session.commit()
    return present.idea(canonical, current_user)


@endpoint(bp, "POST", "/ideas/<int:idea_id>/unmerge", summary="Undo a merge", who=Who.STAFF,
          tag=STATUS, ok=(200, s.IdeaOut), errors=(409,),
          description="Answers the former canonical idea after the change.")
def unmerge(idea_id: int):
    canonical = features.unmerge(_idea(idea_id), current_user)
    db.session.commit()
    return present.idea(canonical, current_user)


# --- comments ------------------------------------------------------------------------------

@endpoint(bp, "GET", "/ideas/<int:idea_id>/comments", summary="List comments",
          who=Who.ANYONE, tag=COMMENTS, ok=(200, list[s.CommentOut]),
          description="The comments shown on the idea's page, oldest first; internal notes "
                      "for staff only.")
def list_comments(idea_id: int):
    idea = services.canonical(_idea(idea_id))
    return [present.comment(c) for c in services.visible_comments(idea, _viewer())]


@endpoint(bp, "POST", "/ideas/<int:idea_id>/comments", summary="Post a comment",
          who=Who.SIGNED_IN, tag=COMMENTS, body=s.CommentIn, ok=(201, s.CommentOut),
          errors=(403,), description="`internal` notes are for staff only (403 otherwise).")
def post_comment(idea_id: int, body: s.CommentIn):
    comment = services.post_comment(_idea(idea_id), current_user, body.body,
                                    internal=body.internal)
    db.session.commit()
    return (present.comment(comment), 201,
            {"Location": _api_url("api.list_comments", idea_id=comment.idea_id)})


# --- lookups -------------------------------------------------------------------------------

@endpoint(bp, "GET", "/similar", summary="Find similar ideas", who=Who.ANYONE, tag=LISTS,
          query=s.SimilarQuery, ok=(200, list[s.SimilarIdea]),
          description="Canonical ideas like this title and body, best first.")
def similar(query: s.SimilarQuery):
    if not (query.title.strip() or query.body.strip()):
        raise ValidationError("Give a title or a body.", {"title": "Give a title or a body."})
    found = features.similar(query.title, query.body, query.limit, _viewer())
    return [s.SimilarIdea(id=i.id, title=i.title, status=i.status.slug, votes=i.vote_count,
                          score=score, url=present.page_url(i)) for i, score in found]


@endpoint(bp, "GET", "/statuses", summary="List statuses", who=Who.ANYONE, tag=LISTS,
          ok=(200, list[s.StatusOut]))
def list_statuses():
    return [present.status(x) for x in db.session.scalars(queries.statuses())]


@endpoint(bp, "GET", "/boards", summary="List boards", who=Who.ANYONE, tag=LISTS,
          ok=(200, list[s.BoardOut]), description="The boards the caller can see.")
def list_boards():
    return [present.board(b) for b in services.visible_boards(_viewer())]


@endpoint(bp, "GET", "/tags", summary="List tags", who=Who.ANYONE, tag=LISTS,
          ok=(200, list[s.TagOut]))
def list_tags():
    return [present.tag(t) for t in db.session.scalars(queries.tags())]


# --- the document and its readable page ----------------------------------------------------

@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())


@bp.get("/docs")
def docs():
    spec = document()
    definitions = spec["components"]["schemas"]
    return render_template("api/docs.html", spec=spec, calls=describe(spec),
                           fields=lambda schema: fields_of(schema, definitions))
