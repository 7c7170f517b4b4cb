"""Query helpers that return a ``select()`` for the caller to paginate."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased, selectinload

from forum.accounts.models import User
from forum.ideas.models import Board, Idea, Status, Tag, Visibility, Vote, idea_tags
from forum.ideas.workflow import can_see_board

SORTS = ("top", "trending", "new", "activity")

_ORDER = {
    "top": (Idea.vote_count.desc(), Idea.id.desc()),
    "trending": (Idea.trending_score.desc(), Idea.id.desc()),
    "new": (Idea.created_at.desc(), Idea.id.desc()),
    "activity": (Idea.last_activity_at.desc(), Idea.id.desc()),
}


def banned_ids() -> Select:
    """Banned people's content is hidden from everyone but the team; nothing is deleted."""
    return select(User.id).where(User.is_banned.is_(True))


def visible_board_ids(*, signed_in: bool, is_staff: bool) -> Select:
    """Ids of the boards someone may see (``services.visible_boards`` in SQL): a subquery
    instead of a statement of its own, for what every page shows (the bell)."""
    return select(Board.id).where(Board.visibility.in_(
        [v for v in Visibility if can_see_board(v.value, signed_in=signed_in, is_staff=is_staff)]))


def visible_ids(boards: Sequence[Board] | Select) -> Select:
    """Ids of the ideas, merged or not, that someone seeing these boards (and not on the team)
    may open: ``services.can_see`` in SQL, for lists that name ideas (notices, changelog)."""
    board_ids = boards if isinstance(boards, Select) else [b.id for b in boards]
    into = aliased(Idea)
    return (select(Idea.id).outerjoin(into, into.id == Idea.merged_into_id)
            .where(Idea.board_id.in_(board_ids), Idea.hidden_at.is_(None),
                   Idea.author_id.not_in(banned_ids()),
                   Idea.merged_into_id.is_(None) | (
                       into.board_id.in_(board_ids) & into.hidden_at.is_(None)
                       & into.author_id.not_in(banned_ids()))))


def idea_list(
    boards: Sequence[Board],
    *,
    sort: str = "top",
    status: Status | None = None,
    tag: Tag | None = None,
    include_hidden: bool = False,
) -> Select:
    """Canonical ideas of the given (already permission-checked) boards, in one order."""
    query = select(Idea).where(
        Idea.merged_into_id.is_(None), Idea.board_id.in_([b.id for b in boards])
    )
    if not include_hidden:
        query = query.where(Idea.hidden_at.is_(None), Idea.author_id.not_in(banned_ids()))
    if status is not None:
        query = query.where(Idea.status_id == status.id)
    if tag is not None:
        query = query.where(Idea.id.in_(select(idea_tags.c.idea_id).where(
            idea_tags.c.tag_id == tag.id)))
    # Tags are shown on every row: one extra query per page instead of one per idea.
    return query.options(selectinload(Idea.tags)).order_by(*_ORDER.get(sort, _ORDER["top"]))


def ideas_by_author(author_id: int, boards: Sequence[Board]) -> Select:
    return (select(Idea)
            .where(Idea.author_id == author_id, Idea.hidden_at.is_(None),
                   Idea.author_id.not_in(banned_ids()), Idea.board_id.in_([b.id for b in boards]))
            .order_by(Idea.created_at.desc()))


def ideas_voted_by(user_id: int, boards: Sequence[Board]) -> Select:
    return (select(Idea).join(Vote, Vote.idea_id == Idea.id)
            .where(Vote.user_id == user_id, Idea.hidden_at.is_(None),
                   Idea.author_id.not_in(banned_ids()), Idea.board_id.in_([b.id for b in boards]))
            .order_by(Vote.created_at.desc()))


def statuses() -> Select:
    """The statuses in use, in workflow order (retired ones are kept only for history)."""
    return select(Status).where(Status.retired.is_(False)).order_by(Status.position, Status.id)


def tags() -> Select:
    return select(Tag).order_by(Tag.name)
