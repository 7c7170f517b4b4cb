"""Value for effort: a pure formula, tested without an app.

score = distinct voters * impact / effort

It is RICE (reach * impact * confidence / effort) with the parts we actually have: reach is the
number of distinct people who asked (votes on merged duplicates included, as vote_count already
is), impact and effort are the team's 1-5 judgement. Confidence is left out on purpose: the
team's confidence is already in the impact they chose, and a third guess would make the score
harder to explain on the page. With 1-5 scales the ratio impact / effort runs from 0.2 to 5,
so a cheap, high-impact idea with 10 voters (10 * 5 / 1 = 50) outranks an expensive,
low-impact one with 200 voters (200 * 1 / 5 = 40) only when the difference is that stark:
votes still matter most, which is what customers expect of a feedback board.
"""

from __future__ import annotations

SCALE = range(1, 6)
FORMULA = "voters \u00d7 impact \u00f7 effort"  # the multiplication and division signs


def valid_rating(value: int | None) -> bool:
    return value is None or value in SCALE


def value_for_effort(voters: int, impact: int | None, effort: int | None) -> float | None:
    """The priority score, or None until the team has rated both impact and effort."""
    if impact is None or effort is None:
        return None
    if impact not in SCALE or effort not in SCALE:
        raise ValueError("impact and effort are rated from 1 to 5")
    return round(max(voters, 0) * impact / effort, 1)
