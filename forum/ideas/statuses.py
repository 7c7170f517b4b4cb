"""Statuses are data: admins add, rename, recolour, reorder and retire them, and choose which
appear on the roadmap. Operations flush and never commit."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.errors import Conflict, NotAllowed, NotFound, ValidationError
from forum.extensions import db
from forum.ideas.models import Idea, Status
from forum.ideas.workflow import StatusKind
from forum.text import clean_input, slugify

NAME_MAX = 40
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def all_statuses(*, include_retired: bool = True) -> list[Status]:
    query = select(Status).order_by(Status.position, Status.id)
    if not include_retired:
        query = query.where(Status.retired.is_(False))
    return list(db.session.scalars(query))


def roadmap_statuses() -> list[Status]:
    return list(db.session.scalars(
        select(Status).where(Status.on_roadmap.is_(True), Status.retired.is_(False))
        .order_by(Status.position, Status.id)))


def idea_counts() -> dict[int, int]:
    return dict(db.session.execute(
        select(Idea.status_id, func.count()).where(Idea.merged_into_id.is_(None))
        .group_by(Idea.status_id)).all())


def get_status(status_id: int) -> Status:
    status = db.session.get(Status, status_id)
    if status is None:
        raise NotFound(_l("No such status."))
    return status


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise NotAllowed(_l("Only administrators can change the statuses."))


def _name(name: str) -> str:
    name = " ".join(clean_input(name or "").split())
    if not name:
        raise ValidationError(_l("Give the status a name."), {"name": _l("Write a name.")})
    if len(name) > NAME_MAX:
        raise ValidationError(_l("The name is too long."),
                              {"name": _l("Use at most %(max)d characters.", max=NAME_MAX)})
    return name


def _colour(colour: str) -> str:
    if not COLOUR.match(colour or ""):
        raise ValidationError(_l("That is not a colour."), {"color": _l("Use the form #1a2b3c.")})
    return colour.lower()


def add_status(by: User, *, name: str, kind: str, color: str, on_roadmap: bool) -> Status:
    _require_admin(by)
    name = _name(name)
    try:
        status_kind = StatusKind(kind)
    except ValueError:
        raise ValidationError(_l("Choose a kind."),
                              {"kind": _l("Choose one of the kinds.")}) from None
    slug = slugify(name, max_length=40).replace("-", "_") or "status"
    if db.session.scalar(select(Status.id).where(Status.slug == slug)) is not None:
        raise Conflict(_l("A status with that name already exists."),
                       {"name": _l("A status with that name already exists.")})
    position = (db.session.scalar(select(func.max(Status.position))) or 0) + 1
    status = Status(slug=slug, name=name, kind=status_kind, color=_colour(color),
                    position=position, on_roadmap=on_roadmap, is_default=False, retired=False)
    db.session.add(status)
    db.session.flush()
    return status


def update_status(status: Status, by: User, *, name: str, color: str, on_roadmap: bool
                  ) -> Status:
    """Rename, recolour, put on or off the roadmap. The slug stays: scripts use it."""
    _require_admin(by)
    status.name = _name(name)
    status.color = _colour(color)
    status.on_roadmap = on_roadmap
    db.session.flush()
    return status


def move_status(status: Status, by: User, direction: int) -> None:
    """Swap with the neighbour above (-1) or below (+1)."""
    _require_admin(by)
    ordered = all_statuses()
    index = ordered.index(status)
    other = index + (1 if direction > 0 else -1)
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        item.position = position
    db.session.flush()


def set_retired(status: Status, by: User, retired: bool) -> Status:
    """A retired status can no longer be chosen; ideas already in it keep it until moved."""
    _require_admin(by)
    if retired and status.is_default:
        raise Conflict(_l("New ideas start in this status; make another the default first."))
    if retired and status.kind in (StatusKind.COMPLETE, StatusKind.CLOSED) and not any(
            s.kind == status.kind and not s.retired and s.id != status.id
            for s in all_statuses()):
        raise Conflict(_l("This is the last status of its kind; add another before retiring it."))
    status.retired = retired
    if retired:
        status.on_roadmap = False
    db.session.flush()
    return status
