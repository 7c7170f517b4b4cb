"""Posting webhook deliveries (``flask forum deliver`` does it after the mail), and what we
promise about it.

Every delivery row is written in the same transaction as the change that causes it, so an event
is posted if and only if the change was committed. Then:

    pending --claim--> sending --2xx--> delivered
       ^                  |
       +--- back-off -----+  (connection refused, timeout, 3xx/4xx/5xx; or the deliverer
                              vanished and its lease ran out)        ... then failed

1. **Claim.** A deliverer takes one due row with a conditional ``UPDATE … WHERE state =
   'pending'`` and commits, on SQLite and PostgreSQL alike: two deliverers never hold the same
   row. The claim is a lease (``WEBHOOK_LEASE_SECONDS``, longer than an attempt can last:
   ``WEBHOOK_TIMEOUT_SECONDS`` plus a margin) and ``attempts`` counts it.
2. **Posting.** No transaction is open while the receiver answers. The body is the one fixed
   when the event happened; the signature is made now (its timestamp is the attempt's).
3. **Marking.** The outcome is written by an UPDATE that also matches the attempt number it
   claimed, so a deliverer that was paused past its lease cannot overwrite the outcome of the
   one that took over.

Anything but a 2xx answer is retried with exponential back-off (``WEBHOOK_RETRY_BASE_SECONDS`` *
2^(attempts-1), capped at ``WEBHOOK_RETRY_MAX_SECONDS``) until ``WEBHOOK_MAX_ATTEMPTS``, then
the row is ``failed``: it stays in the endpoint's log and an admin can redeliver it.

**At least once**, unlike mail: a timeout, or a deliverer that dies while the receiver is
answering, may mean the receiver got the request, and we post it again. That is the HTTP
webhook convention (the receiver cannot be asked "did you get it?" as there is no transaction
to inspect), and it is safe because every attempt carries the same ``X-Forum-Delivery`` id and
body: receivers drop a delivery id they have already processed. While the deliverer and the
receiver behave, each delivery arrives exactly once.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import or_, select, update

from forum.db import utcnow
from forum.extensions import db
from forum.webhooks import events, signing
from forum.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from forum.notifications.delivery import Stop

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
USER_AGENT = "Forum-Webhooks/1"
ERROR_MAX = 500


@dataclass
class Report:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def summary(self) -> str:
        return (f"webhooks: {self.delivered} delivered, {self.retrying} to retry, "
                f"{self.failed} failed")


class DeliveryFailed(Exception):
    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET elsewhere; the receiver's URL is what the
    # admin typed, so a 3xx is an answer to show them, not a place to follow.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body``; returns the 2xx status or raises DeliveryFailed with the reason."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        with error:
            excerpt = error.read(200).decode("utf-8", "replace").strip()
        message = f"HTTP {error.code}" + (f": {excerpt}" if excerpt else "")
        raise DeliveryFailed(message, error.code) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"cannot reach {url}: {reason}") from None


def backoff(attempts: int) -> timedelta:
    base = current_app.config["WEBHOOK_RETRY_BASE_SECONDS"]
    cap = current_app.config["WEBHOOK_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def release_expired(now: datetime) -> int:
    """Rows whose deliverer vanished go back to pending (they may have arrived: the delivery
    id lets the receiver drop the repeat)."""
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.state == DeliveryState.SENDING, WebhookDelivery.lease_until < now)
        .values(state=DeliveryState.PENDING, lease_until=None, next_attempt_at=now,
                last_error="the deliverer stopped during the attempt; trying again")
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


@dataclass(frozen=True)
class Claim:
    id: int
    attempt: int
    event: str
    delivery_id: str
    body: str
    url: str
    secret: str


def _due(now: datetime):
    # Rows of a switched-off endpoint wait for it to be switched on again; a test event goes
    # out anyway (the admin asked for it on purpose).
    return select(WebhookDelivery.id).join(WebhookEndpoint).where(
        WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= now,
        or_(WebhookEndpoint.active.is_(True), WebhookDelivery.event == events.PING))


def claim_next(now: datetime) -> Claim | None:
    lease = timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    while True:
        candidate = db.session.scalar(
            _due(now).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(1))
        if candidate is None:
            db.session.commit()
            return None
        claimed = db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == candidate,
                   WebhookDelivery.state == DeliveryState.PENDING)
            .values(state=DeliveryState.SENDING, lease_until=now + lease,
                    attempts=WebhookDelivery.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed:
            row = db.session.execute(
                select(WebhookDelivery.attempts, WebhookDelivery.event,
                       WebhookDelivery.delivery_id, WebhookDelivery.body, WebhookEndpoint.url,
                       WebhookEndpoint.secret)
                .join(WebhookEndpoint).where(WebhookDelivery.id == candidate)).one()
            db.session.commit()
            return Claim(candidate, *row)


def deliver_due(*, clock: Clock = utcnow, limit: int | None = None,
                stop: Stop | None = None) -> Report:
    """Post every delivery due now, one after the other, until ``stop`` is set."""
    released = release_expired(clock())
    db.session.commit()
    report = Report(recovered=released)
    while (limit is None or report.attempted < limit) and not (stop and stop.is_set()):
        claim = claim_next(clock())
        if claim is None:
            break
        _deliver_one(claim, clock, report)
    return report


def headers_for(claim: Claim, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        signing.EVENT_HEADER: claim.event,
        signing.DELIVERY_HEADER: claim.delivery_id,
        signing.SIGNATURE_HEADER: signing.sign(claim.secret, timestamp, body),
    }


def _deliver_one(claim: Claim, clock: Clock, report: Report) -> None:
    body = claim.body.encode()
    headers = headers_for(claim, body, int(time.time()))
    try:
        status = post(claim.url, body, headers, current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    except DeliveryFailed as error:
        _retry_later(claim, clock(), str(error)[:ERROR_MAX], error.status_code, report)
    else:
        _mark(claim, status_code=status, state=DeliveryState.DELIVERED, delivered_at=clock(),
              lease_until=None, last_error="")
        report.delivered += 1


def _mark(claim: Claim, **values) -> bool:
    db.session.rollback()
    done = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claim.id, WebhookDelivery.state == DeliveryState.SENDING,
               WebhookDelivery.attempts == claim.attempt)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(done)


def _retry_later(claim: Claim, now: datetime, error: str, status_code: int | None,
                 report: Report) -> None:
    report.errors.append(f"delivery {claim.id} ({claim.event}): {error}")
    if claim.attempt >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        _mark(claim, state=DeliveryState.FAILED, lease_until=None, status_code=status_code,
              last_error=f"gave up after {claim.attempt} attempts: {error}")
        report.failed += 1
    else:
        _mark(claim, state=DeliveryState.PENDING, lease_until=None, status_code=status_code,
              last_error=error, next_attempt_at=now + backoff(claim.attempt))
        report.retrying += 1
