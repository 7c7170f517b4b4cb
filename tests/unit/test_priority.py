import pytest

from forum.triage.priority import value_for_effort


def test_votes_times_impact_over_effort():
    assert value_for_effort(10, 5, 1) == 50.0
    assert value_for_effort(200, 1, 5) == 40.0
    assert value_for_effort(7, 3, 2) == 10.5


def test_unrated_ideas_have_no_score_yet():
    assert value_for_effort(100, None, 3) is None
    assert value_for_effort(100, 3, None) is None


def test_no_voters_is_zero_not_an_error():
    assert value_for_effort(0, 5, 1) == 0.0


@pytest.mark.parametrize(("impact", "effort"), [(0, 3), (6, 3), (3, 0), (3, 9)])
def test_ratings_are_one_to_five(impact, effort):
    with pytest.raises(ValueError):
        value_for_effort(3, impact, effort)
