"""Operations of the webhooks area. They flush and never commit.

- Outgoing: the admins' endpoints (create, edit, rotate the secret, delete), the delivery rows
  written for an event (``queue_event``, called by ``receivers``), test events and redelivery.
- Incoming: status hooks, and ``apply_status_update``, which moves ideas through the same
  ``forum.ideas.services.change_status`` as the web page, the API and the CLI (``via=webhook``).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from sqlalchemy import Select, func, select

from forum.accounts.models import User
from forum.db import utcnow
from forum.errors import NotAllowed, NotFound, ValidationError
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Idea, Status, StatusChange
from forum.text import clean_input
from forum.webhooks import events, signing
from forum.webhooks.models import DeliveryState, StatusHook, WebhookDelivery, WebhookEndpoint

NAME_MAX = 80
URL_MAX = 2000


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise NotAllowed(_l("Only administrators can manage webhooks."))


def _validated_name(name: str) -> str:
    label = " ".join(clean_input(name or "").split())
    if not label:
        raise ValidationError(_l("Give it a name."), {"name": _l("Write a name.")})
    if len(label) > NAME_MAX:
        raise ValidationError(_l("The name is too long."),
                              {"name": _l("Use at most %(max)d characters.", max=NAME_MAX)})
    return label


def validated_url(url: str) -> str:
    """An absolute http(s) URL with a host; anything else is refused with a reason."""
    text = (url or "").strip()
    refused = ValidationError(_l("The URL is not valid."),
                              {"url": _l("Use an http:// or https:// address, such as "
                                         "https://ci.example.com/hooks/forum.")})
    if not text or len(text) > URL_MAX or any(c.isspace() or ord(c) < 32 for c in text):
        raise refused
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  a port that is not a number raises here
    except ValueError:
        raise refused from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused
    return text


def _validated_events(chosen: Iterable[str]) -> list[str]:
    wanted = [e for e in events.EVENTS if e in set(chosen)]
    if not wanted or len(wanted) != len(set(chosen)):
        raise ValidationError(_l("Choose the events to send."),
                              {"events": _l("Tick at least one of the listed events.")})
    return wanted


# --- outgoing endpoints --------------------------------------------------------------------

def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name,
                                                                      WebhookEndpoint.id)))


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) if 0 < endpoint_id <= ideas.MAX_ID \
        else None
    if endpoint is None:
        raise NotFound(_l("No webhook with that number."))
    return endpoint


def create_endpoint(by: User, *, name: str, url: str, events: Iterable[str],
                    include_private: bool = False, active: bool = True) -> WebhookEndpoint:
    _require_admin(by)
    endpoint = WebhookEndpoint(name=_validated_name(name), url=validated_url(url),
                               events=_validated_events(events), include_private=include_private,
                               active=active, secret=signing.new_secret(), created_by=by)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, by: User, *, name: str, url: str,
                    events: Iterable[str], include_private: bool, active: bool
                    ) -> WebhookEndpoint:
    _require_admin(by)
    endpoint.name = _validated_name(name)
    endpoint.url = validated_url(url)
    endpoint.events = _validated_events(events)
    endpoint.include_private = include_private
    endpoint.active = active
    db.session.flush()
    return endpoint


def rotate_endpoint_secret(endpoint: WebhookEndpoint, by: User) -> str:
    """A new secret, shown once; rows still waiting are signed with it when they go out."""
    _require_admin(by)
    endpoint.secret = signing.new_secret()
    db.session.flush()
    return endpoint.secret


def delete_endpoint(endpoint: WebhookEndpoint, by: User) -> None:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    _require_admin(by)
    db.session.delete(endpoint)
    db.session.flush()


def deliveries(endpoint: WebhookEndpoint) -> Select:
    return (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc()))


def state_counts() -> dict[int, dict[str, int]]:
    """Per endpoint, how many rows are in each state."""
    counts: dict[int, dict[str, int]] = {}
    for endpoint_id, state, count in db.session.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.state, func.count())
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.state)):
        counts.setdefault(endpoint_id, {})[state.value] = count
    return counts


def _add_delivery(endpoint: WebhookEndpoint, event: str, data: BaseModel) -> WebhookDelivery:
    now = utcnow()
    delivery_id = str(uuid.uuid4())
    row = WebhookDelivery(endpoint_id=endpoint.id, event=event, delivery_id=delivery_id,
                          body=events.body(event, delivery_id, now, data), created_at=now,
                          next_attempt_at=now)
    db.session.add(row)
    return row


# Built once: every vote runs it while holding SQLite's write lock, and building the statement
# anew (with its cache key) cost more than running it, about 60 of 110 µs.
_ACTIVE_ENDPOINTS = select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))


def queue_event(event: str, about: Iterable[Idea], build: Callable[[], BaseModel]) -> int:
    """One delivery row per active endpoint subscribed to ``event``, in the caller's
    transaction. Ideas an anonymous visitor could not see (members-only and staff-only boards,
    hidden ideas) go only to endpoints that include private boards. Returns how many rows."""
    subscribed = [e for e in db.session.scalars(_ACTIVE_ENDPOINTS) if event in e.events]
    if not subscribed:
        return 0
    public = all(ideas.can_see(idea, None) for idea in about)
    targets = [e for e in subscribed if public or e.include_private]
    if targets:
        data = build()
        for endpoint in targets:
            _add_delivery(endpoint, event, data)
        db.session.flush()
    return len(targets)


def send_test(endpoint: WebhookEndpoint, by: User) -> WebhookDelivery:
    """A ``ping`` event to this endpoint only (even while it is switched off)."""
    _require_admin(by)
    row = _add_delivery(endpoint, events.PING, events.ping(endpoint.id, by))
    db.session.flush()
    return row


def redeliver(delivery_row_id: int, by: User) -> WebhookDelivery:
    """Send a delivery again with the same delivery id, at once; a delivered one too (the
    receiver lost it), but never one that is still on its way."""
    _require_admin(by)
    row = db.session.get(WebhookDelivery, delivery_row_id) if 0 < delivery_row_id <= ideas.MAX_ID \
        else None
    if row is None:
        raise NotFound(_l("No delivery with that number."))
    if row.state in (DeliveryState.PENDING, DeliveryState.SENDING):
        raise ValidationError(_l("This delivery is already on its way."))
    row.state = DeliveryState.PENDING
    row.next_attempt_at = utcnow()
    row.lease_until = None
    row.last_error = f"{row.last_error} (redelivery asked by {by.name})".strip()
    db.session.flush()
    return row


# --- incoming status hooks -----------------------------------------------------------------

@dataclass(frozen=True)
class StatusUpdate:
    idea: int
    status: str
    note: str = ""
    release_notes: str = ""


def status_hooks() -> list[StatusHook]:
    return list(db.session.scalars(select(StatusHook).order_by(StatusHook.name, StatusHook.id)))


def get_status_hook(hook_id: int) -> StatusHook:
    hook = db.session.get(StatusHook, hook_id) if 0 < hook_id <= ideas.MAX_ID else None
    if hook is None:
        raise NotFound(_l("No status hook with that number."))
    return hook


def find_status_hook(key: str) -> StatusHook:
    """The live hook of this URL key; unknown and switched-off hooks are 'not found'."""
    hook = db.session.scalar(select(StatusHook).where(StatusHook.key == key[:40]))
    if hook is None or not hook.active:
        raise NotFound(_l("No status hook at this address."))
    return hook


def _github_status(slug: str) -> Status | None:
    if not slug:
        return None
    try:
        return ideas.find_status(slug)
    except NotFound as error:
        raise ValidationError(error.message, {"github_status": _l("Unknown status.")}) from None


def create_status_hook(by: User, *, name: str, github_status: str = "") -> StatusHook:
    _require_admin(by)
    hook = StatusHook(key=secrets.token_urlsafe(18), name=_validated_name(name),
                      secret=signing.new_secret(), github_status=_github_status(github_status),
                      created_by_id=by.id)
    db.session.add(hook)
    db.session.flush()
    return hook


def update_status_hook(hook: StatusHook, by: User, *, name: str, github_status: str,
                       active: bool) -> StatusHook:
    _require_admin(by)
    hook.name = _validated_name(name)
    hook.github_status = _github_status(github_status)
    hook.active = active
    db.session.flush()
    return hook


def rotate_status_hook_secret(hook: StatusHook, by: User) -> str:
    _require_admin(by)
    hook.secret = signing.new_secret()
    db.session.flush()
    return hook.secret


def delete_status_hook(hook: StatusHook, by: User) -> None:
    _require_admin(by)
    db.session.delete(hook)
    db.session.flush()


def _idea(idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id) if 0 < idea_id <= ideas.MAX_ID else None
    if idea is None:
        raise ValidationError(_l("No idea with that number."),
                              {"idea": _l("No idea #%(id)s.", id=idea_id)})
    return idea


def _status(slug: str) -> Status:
    try:
        return ideas.find_status(slug)
    except NotFound as error:
        raise ValidationError(error.message, {"status": _l("Unknown status.")}) from None


def apply_status_update(hook: StatusHook, update: StatusUpdate) -> StatusChange:
    """What another tool asked, signed with the hook's secret: the same status change as on
    the web, recorded as made ``via=webhook``. Unknown ideas and statuses are field errors."""
    change = ideas.change_status(_idea(update.idea), _status(update.status), None,
                                 note=update.note, via="webhook",
                                 release_notes=update.release_notes)
    hook.last_used_at = utcnow()
    db.session.flush()
    return change


# "Ships idea #12", "idea 12", "Closes idea #7" or a link to …/ideas/12.
MENTION = re.compile(r"\bideas?\s*#?\s*(\d{1,10})\b|/ideas/(\d{1,10})\b", re.IGNORECASE)


def mentioned_ideas(text: str) -> list[int]:
    """The idea numbers a release or pull request mentions, in order, once each."""
    found = (int(a or b) for a, b in MENTION.findall(text or ""))
    return list(dict.fromkeys(n for n in found if 0 < n <= ideas.MAX_ID))


def apply_github_event(hook: StatusHook, event: str, payload: dict[str, Any]
                       ) -> tuple[list[StatusChange], list[int]]:
    """A published release or a merged pull request moves the ideas it mentions to the hook's
    status. Ideas already there are left alone (GitHub may send an event twice); an unknown
    idea refuses the whole event. Returns the changes and the ideas left alone."""
    text, link = _github_text(event, payload)
    if text is None:
        return [], []
    if hook.github_status is None:
        raise ValidationError(_l("This hook has no status for GitHub events."),
                              {"status": _l("Choose one on the webhooks page.")})
    numbers = mentioned_ideas(text)
    changes, unchanged = [], []
    for number in numbers:
        idea = ideas.canonical(_idea(number))
        if idea.status_id == hook.github_status_id:
            unchanged.append(number)
            continue
        changes.append(ideas.change_status(
            idea, hook.github_status, None, via="webhook",
            note=gettext("Done in %(link)s", link=link) if link else ""))
    hook.last_used_at = utcnow()
    db.session.flush()
    return changes, unchanged


def _github_text(event: str, payload: dict[str, Any]) -> tuple[str | None, str]:
    """The text to look for mentions in, and a link to cite; None for events we ignore."""
    if event == "release" and payload.get("action") == "published":
        release = payload.get("release") or {}
        return (f"{release.get('name') or ''}\n{release.get('body') or ''}",
                str(release.get("html_url") or ""))
    if event == "pull_request" and payload.get("action") == "closed":
        pull = payload.get("pull_request") or {}
        if pull.get("merged"):
            return (f"{pull.get('title') or ''}\n{pull.get('body') or ''}",
                    str(pull.get("html_url") or ""))
    return None, ""
