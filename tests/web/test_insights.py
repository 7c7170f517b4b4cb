"""The dashboard's figures agree with counts taken straight from the database."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, text

from forum.accounts import services as accounts
from forum.accounts.models import Role
from forum.changelog.models import Answer, SatisfactionAnswer
from forum.db import UTCDateTime
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import (
    Board,
    Idea,
    Status,
    StatusChange,
    SubscriptionLevel,
    Visibility,
    Vote,
    VoteSource,
)
from forum.insights import figures
from forum.notifications.models import NoticeKind, Notification

# A day ago, so that what the services stamp with the real clock comes after every seeded date.
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def seeded(app):
    """A reproducible board: 40 ideas over ten weeks on a public and a staff-only board,
    votes, comments, internal notes, a hidden idea, a merged duplicate, some shipped."""
    rng = random.Random(7)
    pm = accounts.register(email="pm@example.com", name="PM", password=None, role=Role.STAFF)
    people = [accounts.register(email=f"c{i}@example.com", name=f"C{i}", password=None)
              for i in range(15)]
    general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
    inner = Board(slug="inner", name="Inner", visibility=Visibility.STAFF)
    db.session.add(inner)
    statuses = {s.slug: s for s in db.session.scalars(db.select(Status))}
    made = []
    for n in range(40):
        posted = NOW - timedelta(days=rng.randint(0, 70), hours=rng.randint(0, 23))
        idea = ideas.submit_idea(rng.choice(people), title=f"Idea number {n}", body="",
                                 board=inner if n % 5 == 0 else general)
        idea.created_at = posted
        db.session.flush()  # the vote service refreshes the idea, dropping unflushed changes
        for voter in rng.sample(people, rng.randint(0, 6)):
            ideas.cast_vote(idea, voter)
        for vote in db.session.scalars(db.select(Vote).where(Vote.idea_id == idea.id)):
            vote.created_at = posted + timedelta(days=rng.randint(0, 5))
        for k in range(rng.randint(0, 3)):
            comment = ideas.post_comment(idea, rng.choice(people), f"comment {k}")
            comment.created_at = posted + timedelta(hours=k + 1)
        if n % 4 == 0:
            note = ideas.post_comment(idea, pm, "internal", internal=True)
            note.created_at = posted + timedelta(hours=2)
            idea.staff_acted_at = posted + timedelta(hours=rng.randint(1, 100))
        if n % 6 == 0:
            change = ideas.change_status(idea, statuses["shipped"], pm, note="Done")
            change.created_at = min(NOW, posted + timedelta(days=rng.randint(1, 30)))
            idea.staff_acted_at = min(idea.staff_acted_at or change.created_at,
                                      change.created_at)
        made.append(idea)
    made[1].hidden_at = NOW
    made[2].merged_into = made[3]
    # Closing the loop: answers to the satisfaction question, a voter who was not told (their
    # notice is gone) and one who chose to hear nothing; votes picked among similar ideas.
    shipped = [i for i in made if i.status.slug == "shipped" and i.board == general]
    for k, idea in enumerate(shipped):
        for person in people[k % 3:k % 3 + 2]:
            db.session.add(SatisfactionAnswer(idea_id=idea.id, user_id=person.id,
                                              answer=list(Answer)[(k + person.id) % 3]))
    told = db.session.scalars(db.select(Notification).join(
        Vote, (Vote.user_id == Notification.user_id) & (Vote.idea_id == shipped[0].id))
        .where(Notification.idea_id == shipped[0].id,
               Notification.kind == NoticeKind.SHIPPED)).first()
    untold = db.session.scalar(db.select(Vote).where(Vote.idea_id == shipped[0].id,
                                                      Vote.user_id == told.user_id))
    untold.created_at = shipped[0].created_at  # a voter before the shipping, not told
    db.session.delete(told)
    quiet = db.session.scalar(db.select(Vote).where(Vote.idea_id == shipped[1].id))
    ideas.set_subscription(shipped[1], quiet.user, SubscriptionLevel.NONE)
    for idea in [i for i in made[4:] if i.status.slug == "open"][:4]:
        ideas.cast_vote(idea, pm, source=VoteSource.SUGGESTED)
    db.session.commit()
    return {"general": general.id, "inner": inner.id}


def _ids(*board_ids: int) -> str:
    return ",".join(str(i) for i in board_ids)


def _count(sql: str, **moments: datetime) -> int:
    """A count in plain SQL, its moments bound as UTC on SQLite and PostgreSQL alike."""
    query = text(sql).bindparams(*(bindparam(k, type_=UTCDateTime()) for k in moments))
    return db.session.execute(query, moments).scalar()


def test_weekly_counts_match_sql(seeded):
    """Every week's ideas, votes and comments, and the totals. The data set has votes stamped
    after NOW (up to five days after their idea): they belong to no week of the figure."""
    boards = [seeded["general"], seeded["inner"]]
    weekly = figures.weekly(boards, NOW)
    scope = (f"SELECT id FROM ideas WHERE board_id IN ({_ids(*boards)}) "
             f"AND hidden_at IS NULL")
    queries = {
        "ideas": f"SELECT count(*) FROM ideas WHERE id IN ({scope}) AND merged_into_id IS NULL",
        "votes": f"SELECT count(*) FROM votes WHERE idea_id IN ({scope})",
        "comments": f"SELECT count(*) FROM comments WHERE idea_id IN ({scope}) "
                    "AND is_internal = false AND hidden_at IS NULL",
    }
    start = datetime.combine(weekly.starts[0], datetime.min.time(), tzinfo=UTC)
    totals = {name: _count(sql + " AND created_at >= :a AND created_at <= :b", a=start, b=NOW)
              for name, sql in queries.items()}
    assert totals == {name: sum(getattr(weekly, name)) for name in queries}
    assert totals["ideas"] > 20 and totals["votes"] > 40 and totals["comments"] > 10
    later = _count(queries["votes"] + " AND created_at > :b", b=NOW)
    assert later > 0  # the boundary this test is about is exercised
    for i, monday in enumerate(weekly.starts):
        a = datetime.combine(monday, datetime.min.time(), tzinfo=UTC)
        b = min(a + timedelta(days=7) - timedelta(microseconds=1), NOW)
        week = {name: _count(sql + " AND created_at >= :a AND created_at <= :b", a=a, b=b)
                for name, sql in queries.items()}
        assert week == {name: getattr(weekly, name)[i] for name in queries}, monday


def test_by_status_and_top_ideas_match_sql(seeded):
    public = [seeded["general"]]
    counts = {s.slug: n for s, n in figures.by_status(public)}
    rows = dict(db.session.execute(text(
        "SELECT s.slug, count(*) FROM ideas i JOIN statuses s ON s.id = i.status_id "
        f"WHERE i.board_id IN ({_ids(*public)}) AND i.hidden_at IS NULL "
        "AND i.merged_into_id IS NULL GROUP BY s.slug")).all())
    assert {k: v for k, v in counts.items() if v} == rows
    top = figures.top_open(public, limit=5)
    expected = db.session.execute(text(
        "SELECT i.id FROM ideas i JOIN statuses s ON s.id = i.status_id "
        f"WHERE i.board_id IN ({_ids(*public)}) AND i.hidden_at IS NULL AND "
        "i.merged_into_id IS NULL AND s.kind IN ('open', 'active') "
        "ORDER BY i.vote_count DESC, i.id DESC LIMIT 5")).scalars().all()
    assert [i.id for i in top] == expected


def test_response_and_ship_times_match_a_direct_computation(seeded):
    boards = [seeded["general"], seeded["inner"]]
    in_scope = [i for i in db.session.scalars(db.select(Idea).where(Idea.hidden_at.is_(None)))]
    hours = [(i.staff_acted_at - i.created_at).total_seconds() / 3600 for i in in_scope
             if i.staff_acted_at]
    assert figures.median_hours_to_first_response(boards) == round(statistics.median(hours), 1)
    days = []
    for idea in in_scope:
        if idea.status.slug == "shipped":
            shipped = db.session.scalar(db.select(db.func.min(StatusChange.created_at))
                                        .where(StatusChange.idea_id == idea.id))
            days.append((shipped.replace(tzinfo=UTC) - idea.created_at).total_seconds() / 86400)
    assert days and figures.median_days_to_ship(boards) == round(statistics.median(days), 1)
    # Bound as UTC: a naive moment would be read in the test server's zone (Pacific/Chatham),
    # and a change on the last day of last month would count as this month's.
    assert figures.shipped_this_month(boards, NOW) == _count(
        "SELECT count(DISTINCT c.idea_id) FROM status_changes c "
        "JOIN statuses s ON s.id = c.to_status_id JOIN ideas i ON i.id = c.idea_id "
        "WHERE s.kind = 'complete' AND i.hidden_at IS NULL AND c.created_at >= :m",
        m=datetime(NOW.year, NOW.month, 1, tzinfo=UTC))


def test_public_scope_leaves_out_the_staff_board(seeded):
    everything = figures.compute([seeded["general"], seeded["inner"]], NOW)
    public = figures.compute([seeded["general"]], NOW)
    inner_ideas = db.session.execute(text(
        "SELECT count(*) FROM ideas WHERE board_id = :b AND hidden_at IS NULL "
        "AND merged_into_id IS NULL"), {"b": seeded["inner"]}).scalar()
    assert inner_ideas > 0
    assert everything.total_ideas - public.total_ideas == inner_ideas


def test_the_dashboard_page_draws_svg_and_shows_the_figures(client, auth, seeded):
    from forum.accounts.services import find_by_email
    from tests.conftest import PASSWORD

    find_by_email("pm@example.com").set_password(PASSWORD, "scrypt:1024:8:1")
    db.session.commit()
    auth.login("pm@example.com")
    page = client.get("/staff/insights?scope=public")
    assert page.status_code == 200
    assert page.text.count("<svg class=\"chart\"") == 6
    assert "<script" not in page.text.split("<main", 1)[1]
    total = figures.compute([seeded["general"]]).total_ideas
    assert f'data-figure="total-ideas">{total}<' in page.text


def test_status_over_time_ends_where_the_ideas_are_now(seeded):
    boards = [seeded["general"], seeded["inner"]]
    _ends, series = figures.status_over_time(boards, NOW)
    now_by_kind = {}
    for status, count in figures.by_status(boards):
        now_by_kind[status.kind] = now_by_kind.get(status.kind, 0) + count
    assert {k: v[-1] for k, v in series.items() if v[-1]} == {
        k: v for k, v in now_by_kind.items() if v}


def test_status_over_time_matches_a_week_by_week_replay(seeded):
    """The running totals agree with replaying every idea's history at every week's end."""
    boards = [seeded["general"], seeded["inner"]]
    from forum.ideas.workflow import StatusKind

    # Posted after NOW (stamped with the real clock): in no week.
    author = db.session.scalars(db.select(Idea).limit(1)).one().author
    late = ideas.submit_idea(author, title="Posted after the figures", body="",
                             board=db.session.get(Board, seeded["general"]))
    db.session.commit()
    assert late.created_at > NOW
    ends, series = figures.status_over_time(boards, NOW)
    # Each week ends at the next Monday's midnight; the last, still under way, ends now.
    moments = [datetime.combine(end, datetime.min.time(), tzinfo=UTC) for end in ends[:-1]]
    moments.append(NOW)
    expected = {kind: [0] * len(ends) for kind in StatusKind}
    listed = db.session.scalars(db.select(Idea).where(
        Idea.board_id.in_(boards), Idea.hidden_at.is_(None), Idea.merged_into_id.is_(None)))
    replayed_changes = 0
    for idea in listed:
        changes = db.session.scalars(db.select(StatusChange).where(
            StatusChange.idea_id == idea.id).order_by(StatusChange.created_at,
                                                      StatusChange.id)).all()
        for i, end in enumerate(moments):
            if idea.created_at > end:
                continue
            kind = changes[0].from_status.kind if changes else idea.status.kind
            for change in changes:
                if change.created_at <= end:
                    kind = change.to_status.kind
                    replayed_changes += 1
            expected[kind][i] += 1
    assert series == expected
    assert replayed_changes and sum(expected[StatusKind.OPEN]) > 0


def test_status_over_time_replays_the_history(app, personas, make_idea):
    from forum.ideas.workflow import StatusKind

    shipped = db.session.scalar(db.select(Status).where(Status.slug == "shipped"))
    idea = make_idea()
    idea.created_at = NOW - timedelta(weeks=3)
    db.session.flush()
    change = ideas.change_status(idea, shipped, personas["pam"])
    change.created_at = NOW - timedelta(weeks=1, days=1)
    db.session.commit()
    ends, series = figures.status_over_time([idea.board_id], NOW, weeks=5)
    expected = [0 if end <= idea.created_at.date() else
                (0, 1) if end <= change.created_at.date() else (1, 0) for end in ends]
    got = [0 if not (series[StatusKind.COMPLETE][i] or series[StatusKind.OPEN][i]) else
           (series[StatusKind.COMPLETE][i], series[StatusKind.OPEN][i])
           for i in range(len(ends))]
    assert got == expected
    assert got[-1] == (1, 0) and (0, 1) in got


def test_closing_the_loop_figures_match_sql(seeded):
    """Shipped with every voter told, the satisfaction answers, and how often people picked
    an existing idea: each recomputed here in plain SQL."""
    boards = [seeded["general"], seeded["inner"]]
    scope = (f"SELECT id FROM ideas WHERE board_id IN ({_ids(*boards)}) "
             f"AND hidden_at IS NULL")
    shipped = db.session.execute(text(
        f"SELECT i.id FROM ideas i JOIN statuses s ON s.id = i.status_id WHERE i.id IN ({scope})"
        " AND i.merged_into_id IS NULL AND s.kind = 'complete'")).scalars().all()
    all_told = 0
    for idea_id in shipped:
        change_id, at, by = db.session.execute(text(
            "SELECT c.id, c.created_at, c.changed_by_id FROM status_changes c "
            "JOIN statuses s ON s.id = c.to_status_id WHERE c.idea_id = :i "
            "AND s.kind = 'complete' ORDER BY c.created_at DESC, c.id DESC LIMIT 1"),
            {"i": idea_id}).one()
        group = "SELECT id FROM ideas WHERE id = :i OR merged_into_id = :i"
        voters = set(db.session.execute(text(
            f"SELECT v.user_id FROM votes v JOIN users u ON u.id = v.user_id "
            f"WHERE v.idea_id IN ({group}) AND v.created_at <= :at AND u.is_banned = false "
            f"AND v.user_id <> :by AND v.user_id NOT IN (SELECT user_id FROM subscriptions "
            f"WHERE idea_id IN ({group}) AND level = 'none') "
            # Customers are not told about ideas on the team's board: they cannot see them.
            f"AND (u.role IN ('staff', 'admin') OR (SELECT board_id FROM ideas WHERE id = :i)"
            f" <> :inner)"),
            {"i": idea_id, "at": at, "by": by, "inner": seeded["inner"]}).scalars())
        told = set(db.session.execute(text(
            "SELECT user_id FROM notifications WHERE status_change_id = :c"),
            {"c": change_id}).scalars())
        all_told += voters <= told
    loop = figures.loop_closed(boards)
    assert (loop.part, loop.whole) == (all_told, len(shipped))
    assert 0 < loop.part < loop.whole  # the data set has both kinds
    answers = dict(db.session.execute(text(
        f"SELECT answer, count(*) FROM satisfaction_answers WHERE idea_id IN ({scope}) "
        "GROUP BY answer")).all())
    assert {a.value: n for a, n in figures.satisfaction(boards).items() if n} == answers
    assert sum(answers.values()) > 5
    picked = db.session.execute(text(
        f"SELECT count(*) FROM votes WHERE source = 'suggested' AND idea_id IN ({scope})"
    )).scalar()
    posted = db.session.execute(text(f"SELECT count(*) FROM ideas WHERE id IN ({scope})")
                                ).scalar()
    share = figures.picked_existing(boards)
    assert (share.part, share.whole) == (picked, picked + posted) and picked > 0


def test_vote_for_this_instead_is_counted_as_a_picked_idea(client, auth, personas, make_idea):
    existing = make_idea("Dark mode for the dashboard", author=personas["bob"])
    auth.login("anna@example.com")
    form = client.post("/ideas/new", data={"title": "Dark mode please", "body": "",
                                           "check": "1"}).text
    assert f"/ideas/{existing.id}/vote?next=" in form and "from=similar" in form
    client.post(f"/ideas/{existing.id}/vote?from=similar&next=/ideas/{existing.id}")
    vote = db.session.scalar(db.select(Vote).where(Vote.user_id == personas["anna"].id))
    assert vote.source == VoteSource.SUGGESTED
    assert figures.picked_existing([existing.board_id]).part == 1
