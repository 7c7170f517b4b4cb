"""Operations of the changelog: release notes on shipping, and satisfaction answers.
They flush and never commit."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from forum import signals, tokens
from forum.accounts.models import User
from forum.changelog.models import Answer, ChangelogEntry, SatisfactionAnswer, changelog_ideas
from forum.db import utcnow
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.ideas import queries
from forum.ideas.models import Idea, StatusChange
from forum.ideas.services import visible_boards
from forum.ideas.workflow import StatusKind
from forum.notifications.emails import SATISFACTION_MAX_AGE
from forum.text import clean_input

NOTES_MAX = 20_000


def publish(ideas: list[Idea], *, body: str, title: str | None, author: User | None
            ) -> ChangelogEntry:
    text = clean_input(body or "")
    if len(text) > NOTES_MAX:
        raise ValidationError(_l("The release notes are too long."),
                              {"release_notes": _l("Use at most %(max)d characters.",
                                                   max=NOTES_MAX)})
    entry = ChangelogEntry(title=(title or ideas[0].title)[:120], body=text, author=author,
                           published_at=utcnow())
    entry.ideas = list(ideas)
    db.session.add(entry)
    db.session.flush()
    return entry


def on_status_changed(idea: Idea, *, change: StatusChange, by: User | None,
                      release_notes: str = "", **_: Any) -> None:
    """Shipping with release notes publishes them, linked to the idea."""
    if release_notes.strip() and change.to_status.kind == StatusKind.COMPLETE:
        publish([idea], body=release_notes, title=None, author=by)


def connect() -> None:
    signals.status_changed.connect(on_status_changed)


def entries(viewer: User | None) -> Select:
    """The release notes this person may read: an entry about an idea they cannot see (on a
    team-only board, hidden) is left out whole, since its title and text describe that idea."""
    query = select(ChangelogEntry)
    if viewer is None or not viewer.is_authenticated or not viewer.is_staff:
        about_unseen = select(changelog_ideas.c.entry_id).where(
            changelog_ideas.c.idea_id.not_in(queries.visible_ids(visible_boards(viewer))))
        query = query.where(ChangelogEntry.id.not_in(about_unseen))
    return query.order_by(ChangelogEntry.published_at.desc(), ChangelogEntry.id.desc())


def entry_for(idea: Idea) -> ChangelogEntry | None:
    return db.session.scalar(
        select(ChangelogEntry).join(changelog_ideas)
        .where(changelog_ideas.c.idea_id == idea.id)
        .order_by(ChangelogEntry.published_at.desc()).limit(1))


# --- "Did this solve what you asked for?" -------------------------------------------------


def read_answer_token(token: str) -> tuple[User, Idea]:
    payload = tokens.read("satisfaction", token, max_age=SATISFACTION_MAX_AGE)
    user = db.session.get(User, payload.get("u"))
    idea = db.session.get(Idea, payload.get("i"))
    if user is None or idea is None:
        raise NotFound(_l("This link belongs to an idea or account that no longer exists."))
    return user, idea


def record_answer(token: str, answer: str, *, change: bool = False
                  ) -> tuple[SatisfactionAnswer, bool]:
    """Record the person's answer once. A second click keeps the first answer unless they
    explicitly change it (``change``), so a link scanner cannot overwrite what they said.

    Returns the answer row and whether it was written now."""
    try:
        choice = Answer(answer)
    except ValueError:
        raise ValidationError(_l("Choose yes, partly or no."),
                              {"answer": _l("Unknown answer.")}) from None
    user, idea = read_answer_token(token)
    row = db.session.scalar(select(SatisfactionAnswer).where(
        SatisfactionAnswer.idea_id == idea.id, SatisfactionAnswer.user_id == user.id))
    if row is None:
        row = SatisfactionAnswer(idea_id=idea.id, user_id=user.id, answer=choice)
        db.session.add(row)
        db.session.flush()
        return row, True
    if change and row.answer != choice:
        row.answer = choice
        db.session.flush()
        return row, True
    return row, False


def summaries(idea_ids: list[int]) -> dict[int, dict[str, int]]:
    """{idea id: {"yes": n, "partly": n, "no": n, "total": n}} in one query."""
    result: dict[int, dict[str, int]] = {}
    if not idea_ids:
        return result
    for idea_id, answer, count in db.session.execute(
        select(SatisfactionAnswer.idea_id, SatisfactionAnswer.answer, func.count())
        .where(SatisfactionAnswer.idea_id.in_(idea_ids))
        .group_by(SatisfactionAnswer.idea_id, SatisfactionAnswer.answer)
    ):
        figures = result.setdefault(idea_id, {"yes": 0, "partly": 0, "no": 0, "total": 0})
        figures[answer.value] = count
        figures["total"] += count
    return result
