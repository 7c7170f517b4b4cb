"""The dashboard's figures, computed from the rows for the boards in scope.

Hidden ideas (moderated away) and merged duplicates are left out of idea counts, internal notes
and hidden comments out of comment counts, so the figures describe what customers see. The
caller chooses the boards: staff may look at every board, or only at the public ones when the
figures are to be shared outside the team.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import aliased

from forum.accounts.models import TEAM_ROLES, User
from forum.changelog.models import Answer, SatisfactionAnswer
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import workflow
from forum.ideas.models import (
    Board,
    Comment,
    Idea,
    Status,
    StatusChange,
    Subscription,
    SubscriptionLevel,
    Visibility,
    Vote,
    VoteSource,
)
from forum.ideas.workflow import StatusKind
from forum.notifications.models import Notification

WEEKS = 12


@dataclass
class Weekly:
    starts: list[date]
    ideas: list[int]
    votes: list[int]
    comments: list[int]


@dataclass
class Share:
    """``part`` of ``whole``, shown as a percentage with both numbers beside it."""

    part: int
    whole: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.part / self.whole) if self.whole else None


@dataclass
class Figures:
    weekly: Weekly
    by_status: list[tuple[Status, int]]
    top_open: list[Idea]
    median_hours_to_first_response: float | None
    median_days_to_ship: float | None
    shipped_this_month: int
    total_ideas: int
    loop_closed: Share
    satisfaction: dict[Answer, int]
    picked_existing: Share


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _in_scope(board_ids: Sequence[int]) -> tuple[ColumnElement[bool], ...]:
    """The conditions on ``Idea`` of an idea in scope. A query of ideas states them itself:
    written ``Idea.id IN (the ideas in scope)``, every such query first gathered all 100,000
    ideas of the benchmark's data set (about 250 ms each)."""
    return Idea.board_id.in_(list(board_ids)), Idea.hidden_at.is_(None)


def _ideas_in(board_ids: Sequence[int]) -> Select:
    return select(Idea.id).where(*_in_scope(board_ids))


def weekly(board_ids: Sequence[int], now: datetime, weeks: int = WEEKS) -> Weekly:
    """Counts per week (Monday to Sunday, UTC) of the ``weeks`` weeks up to ``now``.

    A row stamped after ``now`` (a figure computed as of an earlier day, imported data, a
    clock ahead on another server) belongs to no week: the queries leave it out rather than
    fetch it for nothing.
    """
    first = week_start(now.astimezone(UTC).date()) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    in_scope = _ideas_in(board_ids)

    def bucket(column, *where) -> list[int]:
        # Counted by the database, a row per week: fetched and bucketed here, the 12 weeks'
        # 250,000 votes of the benchmark's data set took 1.5 s.
        week = case(*[(column >= datetime.combine(s, datetime.min.time(), tzinfo=UTC), i)
                      for i, s in reversed(list(enumerate(starts)))], else_=0)
        counts = dict(db.session.execute(
            select(week, func.count()).where(*where, column.between(since, now))
            .group_by(week)).all())
        return [counts.get(i, 0) for i in range(len(starts))]

    return Weekly(
        starts=starts,
        ideas=bucket(Idea.created_at, *_in_scope(board_ids), Idea.merged_into_id.is_(None)),
        votes=bucket(Vote.created_at, Vote.idea_id.in_(in_scope)),
        comments=bucket(Comment.created_at, Comment.idea_id.in_(in_scope),
                        Comment.is_internal.is_(False), Comment.hidden_at.is_(None)))


def status_over_time(board_ids: Sequence[int], now: datetime, weeks: int = WEEKS
                     ) -> tuple[list[date], dict[StatusKind, list[int]]]:
    """At the end of each week, how many ideas were in each kind of status, replayed from the
    status history (an idea counts from the week it was posted, in the status it had then).

    Each idea adds one to its status from the week it was posted and each change moves it from
    that week on, so the weeks are running totals of those moves. The ideas that never changed
    status (most of them) are counted by the database, by status and week of posting; only
    those with a history are read and replayed here. Replaying every idea week by week took
    1.3 s at 100,000 ideas.
    """
    first = week_start(now.astimezone(UTC).date()) - timedelta(weeks=weeks - 1)
    ends = [min(datetime.combine(first + timedelta(weeks=i + 1), datetime.min.time(),
                                 tzinfo=UTC), now) for i in range(weeks)]
    moves = {kind: [0] * (weeks + 1) for kind in StatusKind}  # the last: after every end

    def week_of(moment: datetime) -> int:
        return bisect.bisect_left(ends, moment)  # the first week whose end is not before it

    listed = (*_in_scope(board_ids), Idea.merged_into_id.is_(None))
    has_history = select(StatusChange.id).where(StatusChange.idea_id == Idea.id).exists()
    posted_in = case(*[(Idea.created_at <= end, i) for i, end in enumerate(ends)], else_=weeks)
    for kind, week, count in db.session.execute(
            select(Status.kind, posted_in, func.count()).join(Status, Status.id == Idea.status_id)
            .where(*listed, ~has_history).group_by(Status.kind, posted_in)):
        moves[kind][week] += count
    rows = db.session.execute(
        select(Idea.id, Idea.created_at, Status.kind).join(Status, Status.id == Idea.status_id)
        .where(*listed, has_history)).all()
    to_status = db.aliased(Status)
    from_status = db.aliased(Status)
    history: dict[int, list[tuple[datetime, StatusKind | None, StatusKind]]] = {}
    for idea_id, at, before, after in db.session.execute(
            select(StatusChange.idea_id, StatusChange.created_at, from_status.kind,
                   to_status.kind)
            .join(to_status, to_status.id == StatusChange.to_status_id)
            .outerjoin(from_status, from_status.id == StatusChange.from_status_id)
            .join(Idea, Idea.id == StatusChange.idea_id)
            .where(*listed)
            .order_by(StatusChange.created_at, StatusChange.id)):
        history.setdefault(idea_id, []).append((at, before, after))
    for idea_id, created, current in rows:
        changes = history.get(idea_id, [])
        posted = week_of(created)
        kind = (changes[0][1] or current) if changes else current
        moves[kind][posted] += 1
        for at, _before, after in changes:
            week = max(week_of(at), posted)
            moves[kind][week] -= 1
            moves[after][week] += 1
            kind = after
    series = {kind: list(itertools.accumulate(moves[kind][:weeks])) for kind in StatusKind}
    return [e.date() for e in ends], series


def by_status(board_ids: Sequence[int]) -> list[tuple[Status, int]]:
    counts = dict(db.session.execute(
        select(Idea.status_id, func.count()).where(
            *_in_scope(board_ids), Idea.merged_into_id.is_(None))
        .group_by(Idea.status_id)).all())
    statuses = db.session.scalars(select(Status).order_by(Status.position))
    return [(s, counts.get(s.id, 0)) for s in statuses if not s.retired or counts.get(s.id)]


def top_open(board_ids: Sequence[int], limit: int = 10) -> list[Idea]:
    return list(db.session.scalars(
        select(Idea).join(Status, Status.id == Idea.status_id)
        .where(*_in_scope(board_ids), Idea.merged_into_id.is_(None),
               Status.kind.in_([StatusKind.OPEN, StatusKind.ACTIVE]))
        .order_by(Idea.vote_count.desc(), Idea.id.desc()).limit(limit)))


def median_hours_to_first_response(board_ids: Sequence[int]) -> float | None:
    """From posting to the first thing staff did (status, comment, triage, edit)."""
    rows = db.session.execute(select(Idea.created_at, Idea.staff_acted_at).where(
        *_in_scope(board_ids), Idea.staff_acted_at.is_not(None))).all()
    hours = [max((acted - created).total_seconds(), 0) / 3600 for created, acted in rows]
    return round(statistics.median(hours), 1) if hours else None


def _ship_changes(board_ids: Sequence[int]) -> Select:
    return (select(StatusChange.idea_id, StatusChange.created_at)
            .join(Status, Status.id == StatusChange.to_status_id)
            .where(Status.kind == StatusKind.COMPLETE,
                   StatusChange.idea_id.in_(_ideas_in(board_ids))))


def median_days_to_ship(board_ids: Sequence[int]) -> float | None:
    """For ideas shipped now: days from posting to the first move into a 'complete' status."""
    first_ship = dict(db.session.execute(
        select(StatusChange.idea_id, func.min(StatusChange.created_at))
        .join(Status, Status.id == StatusChange.to_status_id)
        .where(Status.kind == StatusKind.COMPLETE,
               StatusChange.idea_id.in_(_ideas_in(board_ids)))
        .group_by(StatusChange.idea_id)).all())
    shipped = db.session.execute(
        select(Idea.id, Idea.created_at).join(Status, Status.id == Idea.status_id)
        .where(Idea.id.in_(list(first_ship)), Status.kind == StatusKind.COMPLETE)).all()
    days = []
    for idea_id, created in shipped:
        at = first_ship[idea_id]
        at = at if at.tzinfo else at.replace(tzinfo=UTC)  # func.min loses the column type
        days.append(max((at - created).total_seconds(), 0) / 86400)
    return round(statistics.median(days), 1) if days else None


def shipped_this_month(board_ids: Sequence[int], now: datetime) -> int:
    month = datetime(now.year, now.month, 1, tzinfo=UTC)
    return len({idea_id for idea_id, at in db.session.execute(_ship_changes(board_ids))
                if at >= month})


def loop_closed(board_ids: Sequence[int]) -> Share:
    """Of the ideas shipped now, how many were shipped with every voter told.

    For each idea, its latest move into a 'complete' status; its voters are the people who had
    voted on it (or on an idea merged into it) by then, leaving out the person who made the
    move, banned people, anyone who had chosen to hear nothing about it, and customers when
    only the team may see the idea. Told means they got that change's notice (in the app, and
    by email unless they chose otherwise).

    One statement whatever the number of shipped ideas: asked idea by idea, 5,000 shipped
    ideas among 1,000,000 votes took two minutes, and the dashboard with them.
    """
    # Driven from the status history (a few rows per shipped idea), each row's idea looked up
    # by its key: "idea_id IN (the ideas in scope)" read every idea first.
    complete = select(Status.id).where(Status.kind == StatusKind.COMPLETE)
    ranked = (select(StatusChange.id, StatusChange.idea_id, StatusChange.created_at,
                     StatusChange.changed_by_id,
                     func.row_number().over(
                         partition_by=StatusChange.idea_id,
                         order_by=(StatusChange.created_at.desc(), StatusChange.id.desc())
                     ).label("n"))
              .join(Idea, Idea.id == StatusChange.idea_id)
              .where(StatusChange.to_status_id.in_(complete), Idea.status_id.in_(complete),
                     *_in_scope(board_ids), Idea.merged_into_id.is_(None))
              .subquery())
    latest = select(ranked).where(ranked.c.n == 1).cte("latest")
    # The same rule as notifications.recipients.team_only, for the canonical, listed ideas
    # counted here: customers cannot see the idea when its author is banned or its board is
    # one only the team sees.
    unseen = [v.value for v in Visibility
              if not workflow.can_see_board(v.value, signed_in=True, is_staff=False)]
    author, shipped_idea = aliased(User), aliased(Idea)
    team_only = (select(Idea.id).join(author, author.id == Idea.author_id)
                 .join(Board, Board.id == Idea.board_id)
                 .where(Idea.id == latest.c.idea_id,
                        author.is_banned.is_(True) | Board.visibility.in_(unseen))
                 .correlate(latest).exists())
    # The subqueries name the shipped idea of the outermost query (``latest``): correlated by
    # hand, since SQLAlchemy only correlates a subquery with the query directly around it.
    group = (select(shipped_idea.id).where((shipped_idea.id == latest.c.idea_id)
                                           | (shipped_idea.merged_into_id == latest.c.idea_id))
             .correlate(latest))
    silent = (select(Subscription.user_id)
              .where(Subscription.user_id == Vote.user_id, Subscription.idea_id.in_(group),
                     Subscription.level == SubscriptionLevel.NONE).exists())
    told = (select(Notification.id)
            .where(Notification.status_change_id == latest.c.id,
                   Notification.user_id == Vote.user_id)
            .correlate(latest, Vote).exists())
    # Banned people and the team as lists, not a join with users: joined, SQLite walked every
    # user who is not banned for each shipped idea instead of that idea's votes.
    banned = select(User.id).where(User.is_banned.is_(True))
    team = select(User.id).where(User.role.in_(TEAM_ROLES))
    untold_voter = (
        select(Vote.id)
        .where(Vote.idea_id.in_(group), Vote.created_at <= latest.c.created_at,
               Vote.user_id.not_in(banned),
               Vote.user_id != func.coalesce(latest.c.changed_by_id, 0),
               ~team_only | Vote.user_id.in_(team),
               ~silent, ~told)
        .exists())
    whole, missed = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((untold_voter, 1), else_=0)), 0))
        .select_from(latest)).one()
    return Share(part=whole - missed, whole=whole)


def satisfaction(board_ids: Sequence[int]) -> dict[Answer, int]:
    """The answers to "Does this solve what you asked for?" about ideas in scope."""
    counts = dict(db.session.execute(
        select(SatisfactionAnswer.answer, func.count())
        .where(SatisfactionAnswer.idea_id.in_(_ideas_in(board_ids)))
        .group_by(SatisfactionAnswer.answer)).all())
    return {answer: counts.get(answer, 0) for answer in Answer}


def picked_existing(board_ids: Sequence[int]) -> Share:
    """How often someone about to post picked an existing idea instead: votes cast with "Vote
    for this instead" beside the similar ideas, out of those plus the ideas posted."""
    picked = db.session.scalar(select(func.count(Vote.id)).where(
        Vote.idea_id.in_(_ideas_in(board_ids)), Vote.source == VoteSource.SUGGESTED)) or 0
    posted = db.session.scalar(select(func.count(Idea.id)).where(
        *_in_scope(board_ids))) or 0
    return Share(part=picked, whole=picked + posted)


def compute(board_ids: Sequence[int], now: datetime | None = None) -> Figures:
    now = now or utcnow()
    statuses = by_status(board_ids)
    return Figures(
        weekly=weekly(board_ids, now), by_status=statuses, top_open=top_open(board_ids),
        median_hours_to_first_response=median_hours_to_first_response(board_ids),
        median_days_to_ship=median_days_to_ship(board_ids),
        shipped_this_month=shipped_this_month(board_ids, now),
        total_ideas=sum(count for _s, count in statuses),
        loop_closed=loop_closed(board_ids), satisfaction=satisfaction(board_ids),
        picked_existing=picked_existing(board_ids),
    )
