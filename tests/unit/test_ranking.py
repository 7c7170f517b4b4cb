from datetime import UTC, datetime, timedelta

import pytest

from forum.ideas.ranking import (
    HALF_LIFE_DAYS,
    NO_VOTES,
    add_vote,
    removal_is_exact,
    remove_vote,
    trending_score,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def decayed(times, now=NOW):
    return sum(0.5 ** ((now - t).total_seconds() / 86400 / HALF_LIFE_DAYS) for t in times)


def test_recent_votes_beat_old_votes_of_the_same_number():
    old = [NOW - timedelta(days=30, hours=h) for h in range(10)]
    recent = [NOW - timedelta(hours=h) for h in range(10)]
    assert trending_score(recent) > trending_score(old)


def test_order_matches_decayed_counts_without_any_decay_job():
    many_old = [NOW - timedelta(days=9, minutes=m) for m in range(100)]
    few_new = [NOW - timedelta(hours=h) for h in range(20)]
    expect = decayed(many_old) > decayed(few_new)
    assert (trending_score(many_old) > trending_score(few_new)) is expect


def test_remove_undoes_add():
    times = [NOW - timedelta(hours=h * 7) for h in range(5)]
    score = trending_score(times)
    extra = NOW - timedelta(hours=3)
    assert remove_vote(add_vote(score, extra), extra) == pytest.approx(score, rel=1e-9)


def test_removing_the_only_vote_leaves_nothing():
    assert remove_vote(add_vote(NO_VOTES, NOW), NOW) == NO_VOTES


def test_no_overflow_decades_ahead():
    far = datetime(2090, 1, 1, tzinfo=UTC)
    assert add_vote(add_vote(NO_VOTES, far), far) == pytest.approx(add_vote(NO_VOTES, far) + 1)


def test_a_fresh_vote_on_old_votes_cannot_be_subtracted_back():
    old = [NOW - timedelta(days=200 + d) for d in range(3)]
    score = add_vote(trending_score(old), NOW)
    # The old votes vanished below float precision: subtracting would leave nothing.
    assert remove_vote(score, NOW) == NO_VOTES
    assert not removal_is_exact(score, NOW)
    assert removal_is_exact(score, old[0])


def test_removal_is_exact_for_votes_of_similar_age():
    times = [NOW - timedelta(hours=h * 7) for h in range(5)]
    assert all(removal_is_exact(trending_score(times), t) for t in times)
