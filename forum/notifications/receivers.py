"""Reactions to ``forum.signals``: each writes its notices and outbox rows into the session of
the change that caused it, so they commit (or roll back) together."""

from __future__ import annotations

from typing import Any

from forum import signals
from forum.accounts.models import User
from forum.ideas.models import Comment, Idea, StatusChange
from forum.notifications import services


def on_status_changed(idea: Idea, *, change: StatusChange, by: User | None, **_: Any) -> None:
    services.notify_status_change(change, by)


def on_comment_posted(comment: Comment, *, idea: Idea, author: User, **_: Any) -> None:
    services.notify_comment(comment, idea, author)


def on_ideas_merged(canonical: Idea, *, merged: Idea, by: User | None = None, **_: Any) -> None:
    services.notify_merge(canonical, merged, by)


def on_vote_added_on_behalf(idea: Idea, *, voter: User, by: User, tell: bool = False,
                            **_: Any) -> None:
    if tell:
        services.enqueue("vote_added", to=voter.email, user=voter, idea=idea,
                         params={"by_id": by.id})


def on_signed_up(user: User, **_: Any) -> None:
    services.enqueue("confirm_email", to=user.email, user=user)


def on_confirmation_requested(user: User, **_: Any) -> None:
    services.queue_account_mail("confirm_email", user)


def on_password_reset_requested(user: User, **_: Any) -> None:
    services.queue_account_mail("password_reset", user)


def connect() -> None:
    """Idempotent: blinker keeps one connection per receiver, however many apps are built."""
    signals.status_changed.connect(on_status_changed)
    signals.comment_posted.connect(on_comment_posted)
    signals.ideas_merged.connect(on_ideas_merged)
    signals.vote_added_on_behalf.connect(on_vote_added_on_behalf)
    signals.user_signed_up.connect(on_signed_up)
    signals.password_reset_requested.connect(on_password_reset_requested)
    signals.confirmation_requested.connect(on_confirmation_requested)
