"""Reactions to ``forum.signals``: each event becomes delivery rows in the session of the
change that caused it, so they commit (or roll back) with it. Services never hear of webhooks."""

from __future__ import annotations

from typing import Any

from forum import signals
from forum.accounts.models import User
from forum.ideas.models import Comment, Idea, StatusChange
from forum.webhooks import events, services


def on_idea_created(idea: Idea, *, author: User, **_: Any) -> None:
    services.queue_event(events.IDEA_CREATED, [idea], lambda: events.idea_created(idea))


def on_status_changed(idea: Idea, *, change: StatusChange, **_: Any) -> None:
    services.queue_event(events.IDEA_STATUS_CHANGED, [idea],
                         lambda: events.status_changed(idea, change))


def on_ideas_merged(canonical: Idea, *, merged: Idea, **_: Any) -> None:
    services.queue_event(events.IDEA_MERGED, [canonical, merged],
                         lambda: events.merged(canonical, merged))


def on_vote_cast(idea: Idea, *, voter: User, source: Any = None, **_: Any) -> None:
    if voter.id == idea.author_id:
        return  # posting an idea casts its author's vote: that is idea.created (votes: 1)
    services.queue_event(events.VOTE_CREATED, [idea],
                         lambda: events.vote_created(idea, voter, source or "web"))


def on_comment_posted(comment: Comment, *, idea: Idea, **_: Any) -> None:
    if comment.is_internal:
        return  # internal notes are the team's; no endpoint ever receives them
    services.queue_event(events.COMMENT_CREATED, [idea],
                         lambda: events.comment_created(comment, idea))


def connect() -> None:
    """Idempotent: blinker keeps one connection per receiver, however many apps are built."""
    signals.idea_created.connect(on_idea_created)
    signals.status_changed.connect(on_status_changed)
    signals.ideas_merged.connect(on_ideas_merged)
    signals.vote_cast.connect(on_vote_cast)
    signals.comment_posted.connect(on_comment_posted)
