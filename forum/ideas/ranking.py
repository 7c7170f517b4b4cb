"""Pure ranking formulas.

Trending is a vote count in which each vote's weight halves every ``HALF_LIFE_DAYS``. Comparing
two ideas "now" by ``sum(2 ** ((t_vote - now) / H))`` orders them exactly as
``sum(2 ** ((t_vote - EPOCH) / H))`` does, because ``now`` only scales every sum by the same
factor. So the score can be stored once per vote, in log space, and never needs a periodic
decay job: ``score = log2(sum(2 ** x_v))`` with ``x_v = (t_vote - EPOCH) / H``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

HALF_LIFE_DAYS = 3.0
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
NO_VOTES = 0.0  # every real vote's exponent is far above this (years since 2020 / 3 days)


def vote_exponent(at: datetime) -> float:
    return (at - EPOCH).total_seconds() / 86400.0 / HALF_LIFE_DAYS


def add_vote(score: float, at: datetime) -> float:
    """log2(2**score + 2**x), computed without overflow."""
    x = vote_exponent(at)
    if score <= NO_VOTES:
        return x
    high, low = max(score, x), min(score, x)
    return high + math.log2(1.0 + 2.0 ** (low - high))


# Below this gap the difference 2**score - 2**x keeps too few significant bits (see
# removal_is_exact); -1e-5 leaves a wide margin over what `flask forum check` tolerates.
_EXACT_GAP = -1e-5


def removal_is_exact(score: float, at: datetime) -> bool:
    """Whether ``remove_vote`` can take this vote out of the score without losing the others.

    A vote cast today outweighs a vote of six months ago by 2**60: adding it absorbs the old
    votes below double precision, and subtracting it again cannot bring them back. Then the
    caller recomputes the score from the remaining votes.
    """
    return score <= NO_VOTES or vote_exponent(at) - score <= _EXACT_GAP


def remove_vote(score: float, at: datetime) -> float:
    """log2(2**score - 2**x); when the vote was (nearly) all of it, nothing is left."""
    x = vote_exponent(at)
    gap = x - score
    if score <= NO_VOTES or gap > -1e-9:
        return NO_VOTES
    return score + math.log2(1.0 - 2.0 ** gap)


def trending_score(vote_times: Iterable[datetime]) -> float:
    score = NO_VOTES
    for at in vote_times:
        score = add_vote(score, at)
    return score
