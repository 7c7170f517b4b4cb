"""Invariants that every stored count must satisfy, computed set-wise from the rows.

Used by ``flask forum check`` and by the test suite after tests that change data.
"""

from __future__ import annotations

from sqlalchemy import func, select

from forum.extensions import db
from forum.ideas import ranking
from forum.ideas.models import Comment, Idea, Vote
from forum.ideas.services import readable_comment
from forum.search import indexing

TRENDING_TOLERANCE = 1e-6


def run(*, fix: bool = False) -> list[str]:
    """Every problem found, as one line each; with ``fix``, repaired as well (the caller
    commits the count repairs; index repairs are written at once)."""
    return [*_vote_counts(fix), *_comment_counts(fix), *_merge_chains(), *_stalled_mail(fix),
            *_search_index(fix)]


def _vote_counts(fix: bool) -> list[str]:
    canonical_id = func.coalesce(Idea.merged_into_id, Idea.id)
    truth = dict(db.session.execute(
        select(canonical_id, func.count(func.distinct(Vote.user_id)))
        .join(Vote, Vote.idea_id == Idea.id).group_by(canonical_id)
    ).all())
    vote_times: dict[int, list] = {}
    for group, at in db.session.execute(
        select(canonical_id, Vote.created_at).join(Vote, Vote.idea_id == Idea.id)
    ):
        vote_times.setdefault(group, []).append(at)
    problems = []
    for idea in db.session.scalars(select(Idea).where(Idea.merged_into_id.is_(None))):
        expected = truth.get(idea.id, 0)
        if idea.vote_count != expected:
            problems.append(f"idea {idea.id}: vote_count {idea.vote_count}, voters {expected}")
            if fix:
                idea.vote_count = expected
        score = ranking.trending_score(sorted(vote_times.get(idea.id, [])))
        if abs(idea.trending_score - score) > TRENDING_TOLERANCE * max(1.0, abs(score)):
            problems.append(f"idea {idea.id}: trending {idea.trending_score:.6f}, "
                            f"recomputed {score:.6f}")
            if fix:
                idea.trending_score = score
    return problems


def _comment_counts(fix: bool) -> list[str]:
    truth = dict(db.session.execute(
        select(Comment.idea_id, func.count())
        .where(readable_comment()).group_by(Comment.idea_id)
    ).all())
    problems = []
    for idea in db.session.scalars(select(Idea)):
        expected = truth.get(idea.id, 0)
        if idea.comment_count != expected:
            problems.append(f"idea {idea.id}: comment_count {idea.comment_count}, "
                            f"comments {expected}")
            if fix:
                idea.comment_count = expected
    return problems


def _merge_chains() -> list[str]:
    parent = db.aliased(Idea)
    chained = db.session.execute(
        select(Idea.id, parent.id).join(parent, Idea.merged_into_id == parent.id)
        .where(parent.merged_into_id.is_not(None))
    ).all()
    return [f"idea {child}: merged into {mid}, itself merged (chain not flattened)"
            for child, mid in chained]


def _stalled_mail(fix: bool) -> list[str]:
    """Outbox rows claimed by a deliverer that stopped: its lease ran out unreleased."""
    from forum.db import utcnow
    from forum.notifications.delivery import release_expired
    from forum.notifications.models import MailState, OutboxMessage

    now = utcnow()
    stalled = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.phase).where(
            OutboxMessage.state == MailState.SENDING, OutboxMessage.lease_until < now)
    ).all()
    problems = [f"outbox message {message_id}: its deliverer stopped while "
                f"{'handing it to the server' if phase and phase.value == 'handed' else 'sending'}"
                for message_id, phase in stalled]
    if fix and stalled:
        release_expired(now)
    return problems


def _search_index(fix: bool) -> list[str]:
    """Ideas missing from the search index, indexed from an older version, or gone."""
    found = indexing.drift()
    problems = [f"idea {i}: missing from the search index" for i in found.missing]
    problems += [f"idea {i}: stale in the search index" for i in found.stale]
    problems += [f"search index: idea {i} should not be there" for i in found.extra]
    if fix and found:
        indexing.repair(found)
    return problems
