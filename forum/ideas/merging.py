"""Merging duplicate ideas, unmerging them, and the staff's queue of likely duplicates.

Merge is a link, not a copy (ARCHITECTURE.md, "Domain rules"): the duplicate points at its
canonical idea; votes, subscriptions and comments keep their own rows. Counts are recomputed
set-wise from those rows, so merge and unmerge can never make them drift. Like every service,
these functions flush and send their signal; the caller commits.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select

from forum import signals
from forum.accounts.models import User
from forum.db import utcnow
from forum.errors import Conflict, NotAllowed
from forum.extensions import db
from forum.ideas import ranking
from forum.ideas.models import DuplicateDismissal, Idea, IdeaMerge, Vote
from forum.ideas.services import canonical, group_ids


def _require_staff(user: User | None) -> User:
    if user is None or not user.is_authenticated or not user.is_staff:
        raise NotAllowed(_l("Only the team can merge or unmerge ideas."))
    return user


def _lock(*ideas: Idea) -> None:
    # In id order, so two staff merging the same pair the other way round cannot deadlock.
    for idea in sorted(ideas, key=lambda i: i.id):
        db.session.refresh(idea, with_for_update=True)


def recount(idea: Idea) -> Idea:
    """Vote count and trending score of a canonical idea, from the rows of its whole group.

    The vote count is the number of distinct people; the trending score adds every vote row
    of the group, as ``cast_vote``/``withdraw_vote`` and ``flask forum check`` do.
    """
    ids = group_ids(idea)
    idea.vote_count = db.session.scalar(
        select(func.count(func.distinct(Vote.user_id))).where(Vote.idea_id.in_(ids))
    ) or 0
    idea.trending_score = ranking.trending_score(sorted(db.session.scalars(
        select(Vote.created_at).where(Vote.idea_id.in_(ids))
    )))
    return idea


def merge_ideas(duplicate: Idea, into: Idea, by: User) -> Idea:
    """Merge ``duplicate`` into ``into`` (or into the idea ``into`` was merged into).

    The duplicate's own duplicates move along to the new canonical idea (chains stay one hop
    long); what is needed to take them back is kept in ``IdeaMerge`` rows. Returns the
    canonical idea.
    """
    _require_staff(by)
    target = canonical(into)
    if duplicate.merged_into_id is not None:
        raise Conflict(_l("This idea is already merged; unmerge it first."))
    if target.id == duplicate.id:
        raise Conflict(_l("An idea cannot be merged into itself."))
    _lock(duplicate, target)
    now = utcnow()
    for child in db.session.scalars(select(Idea).where(Idea.merged_into_id == duplicate.id)):
        child.merged_into_id = target.id
    db.session.add(IdeaMerge(idea_id=duplicate.id, into_id=target.id, merged_by_id=by.id,
                             merged_at=now, previous_staff_acted_at=duplicate.staff_acted_at))
    duplicate.merged_into_id = target.id
    duplicate.merged_at = now
    duplicate.merged_by_id = by.id
    duplicate.staff_acted_at = duplicate.staff_acted_at or now
    db.session.flush()
    db.session.expire(target, ["merged_into"])
    recount(target)
    _forget_dismissal(duplicate, target)
    db.session.flush()
    signals.ideas_merged.send(target, merged=duplicate, by=by)
    return target


def unmerge_idea(merged: Idea, by: User) -> Idea:
    """Split ``merged`` off its canonical idea again, with the duplicates it had taken in.

    Both ideas get back their own votes' counts; returns the former canonical idea.
    """
    _require_staff(by)
    if merged.merged_into_id is None:
        raise Conflict(_l("This idea is not merged into another one."))
    former = db.session.get(Idea, merged.merged_into_id)
    assert former is not None  # a foreign key
    _lock(merged, former)
    record = db.session.scalar(select(IdeaMerge).where(IdeaMerge.idea_id == merged.id))
    # The duplicates it had before it was merged, if they are still merged along with it.
    taken_back = db.session.scalars(
        select(Idea).join(IdeaMerge, IdeaMerge.idea_id == Idea.id)
        .where(IdeaMerge.into_id == merged.id, Idea.merged_into_id == former.id)
    ).all()
    for child in taken_back:
        child.merged_into_id = merged.id
    merged.merged_into_id = None
    merged.merged_at = None
    merged.merged_by_id = None
    if record is not None:
        merged.staff_acted_at = record.previous_staff_acted_at
        db.session.delete(record)
    db.session.flush()
    db.session.expire(merged, ["merged_into"])
    recount(former)
    recount(merged)
    db.session.flush()
    signals.ideas_unmerged.send(former, restored=merged, by=by)
    return former


# --- likely duplicates ---------------------------------------------------------------------

def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def dismiss_pair(first: Idea, second: Idea, by: User) -> DuplicateDismissal:
    """Remember that these two are not duplicates. Idempotent."""
    _require_staff(by)
    low, high = _pair(first.id, second.id)
    if low == high:
        raise Conflict(_l("An idea is not a duplicate of itself."))
    found = db.session.scalar(select(DuplicateDismissal).where(
        DuplicateDismissal.first_id == low, DuplicateDismissal.second_id == high))
    if found is None:
        found = DuplicateDismissal(first_id=low, second_id=high, dismissed_by_id=by.id)
        db.session.add(found)
        db.session.flush()
    return found


def _forget_dismissal(a: Idea, b: Idea) -> None:
    # Staff changed their mind and merged the pair after all.
    low, high = _pair(a.id, b.id)
    db.session.execute(delete(DuplicateDismissal).where(
        DuplicateDismissal.first_id == low, DuplicateDismissal.second_id == high))


def dismissed_pairs(ids: list[int]) -> set[tuple[int, int]]:
    if not ids:
        return set()
    rows = db.session.execute(select(DuplicateDismissal.first_id, DuplicateDismissal.second_id)
                              .where(or_(DuplicateDismissal.first_id.in_(ids),
                                         DuplicateDismissal.second_id.in_(ids))))
    return {(a, b) for a, b in rows}

