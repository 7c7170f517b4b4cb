"""The workflow's pure rules, without an app."""

import pytest

from forum.ideas.workflow import (
    StatusKind,
    can_edit_idea,
    can_move,
    can_see_board,
    note_required,
    voting_open,
)

K = StatusKind


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (K.OPEN, K.ACTIVE, True),
        (K.OPEN, K.COMPLETE, True),
        (K.OPEN, K.CLOSED, True),
        (K.ACTIVE, K.OPEN, True),
        (K.ACTIVE, K.COMPLETE, True),
        (K.COMPLETE, K.OPEN, True),     # reopening is allowed
        (K.COMPLETE, K.ACTIVE, True),   # a regression found after shipping
        (K.COMPLETE, K.CLOSED, False),  # reopen first: never "shipped, then declined"
        (K.CLOSED, K.OPEN, True),
        (K.CLOSED, K.ACTIVE, True),
        (K.CLOSED, K.COMPLETE, False),
        (K.OPEN, K.OPEN, True),         # open -> under review
    ],
)
def test_transition_table(source, target, allowed):
    assert can_move(source, target) is allowed


def test_only_declining_needs_a_note():
    assert [k for k in K if note_required(k)] == [K.CLOSED]


def test_voting_closes_once_decided():
    assert {k for k in K if voting_open(k)} == {K.OPEN, K.ACTIVE}


@pytest.mark.parametrize(
    ("is_staff", "is_author", "acted", "allowed"),
    [
        (False, True, False, True),
        (False, True, True, False),   # the team acted: the author can no longer rewrite it
        (False, False, False, False),
        (True, False, True, True),
    ],
)
def test_who_may_edit(is_staff, is_author, acted, allowed):
    assert can_edit_idea(is_staff=is_staff, is_author=is_author, staff_has_acted=acted) is allowed


@pytest.mark.parametrize(
    ("visibility", "signed_in", "staff", "visible"),
    [
        ("public", False, False, True),
        ("members", False, False, False),
        ("members", True, False, True),
        ("staff", True, False, False),
        ("staff", True, True, True),
    ],
)
def test_board_visibility(visibility, signed_in, staff, visible):
    assert can_see_board(visibility, signed_in=signed_in, is_staff=staff) is visible
