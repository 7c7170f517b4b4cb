"""Pure rules of the idea workflow: which status may follow which, who may do what.

No database, no Flask: these are tested as plain functions and used by services and templates.
"""

from __future__ import annotations

import enum


class StatusKind(enum.StrEnum):
    OPEN = "open"          # waiting for a decision (open, under review)
    ACTIVE = "active"      # accepted and being worked on (planned, in progress)
    COMPLETE = "complete"  # done (shipped)
    CLOSED = "closed"      # won't be done (declined)


# Allowed moves between kinds. Moving between two statuses of the same kind is always allowed
# (e.g. open -> under review). A shipped idea is reopened before it can be declined, so the
# history never says "shipped, then declined" without the reopening in between.
TRANSITIONS: dict[StatusKind, frozenset[StatusKind]] = {
    StatusKind.OPEN: frozenset(StatusKind),
    StatusKind.ACTIVE: frozenset(StatusKind),
    StatusKind.COMPLETE: frozenset({StatusKind.OPEN, StatusKind.ACTIVE, StatusKind.COMPLETE}),
    StatusKind.CLOSED: frozenset({StatusKind.OPEN, StatusKind.ACTIVE, StatusKind.CLOSED}),
}


def can_move(from_kind: StatusKind, to_kind: StatusKind) -> bool:
    return to_kind in TRANSITIONS[from_kind]


def note_required(to_kind: StatusKind) -> bool:
    """Declining tells voters why: a closing move needs a public note."""
    return to_kind == StatusKind.CLOSED


def voting_open(kind: StatusKind) -> bool:
    """Votes are a signal for what to build next; they mean nothing once it is decided."""
    return kind in (StatusKind.OPEN, StatusKind.ACTIVE)


def can_edit_idea(*, is_staff: bool, is_author: bool, staff_has_acted: bool) -> bool:
    """Authors may fix their own idea until staff has acted on it (triaged, moved, merged)."""
    return is_staff or (is_author and not staff_has_acted)


def can_see_board(visibility: str, *, signed_in: bool, is_staff: bool) -> bool:
    if visibility == "public":
        return True
    if visibility == "members":
        return signed_in
    return is_staff


def _(text: str) -> str:  # marks text for extraction; translated where it is shown
    return text


# Names of the default statuses (data in the database, created by the first migration), listed
# here so that the translation tools extract them; templates show ``_(status.name)``.
DEFAULT_STATUS_NAMES = (_("Open"), _("Under review"), _("Planned"), _("In progress"),
                        _("Shipped"), _("Declined"))
