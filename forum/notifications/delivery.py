"""Delivering the outbox (``flask forum deliver``), and what we promise about it.

Every outbox row is written in the same transaction as the change that causes it, so a message
exists if and only if the change was committed. Delivery then moves each row through:

    pending --claim--> sending/claimed --handing over--> sending/handed --250--> sent
       ^                    |                                  |
       +---- back-off ------+ (refused before DATA: 4xx,       +-- deliverer died here:
             (temporary)      connection refused, timeout)          uncertain (not resent)

1. **Claim.** A deliverer takes one due row with a conditional ``UPDATE … WHERE state =
   'pending'`` and commits: two deliverers never hold the same row. The claim is a lease
   (``MAIL_LEASE_SECONDS``); ``attempts`` counts it.
2. **Handing over.** The SMTP sender opens the envelope (MAIL FROM, RCPT TO). Nothing can have
   been delivered yet. Just before the message data (DATA) the deliverer records
   ``phase = handed`` and commits.
3. **Marking.** On the server's 250 the row becomes ``sent`` in one conditional UPDATE and a
   commit. It is never marked twice and never sent again.

Failures:
- Refused or unreachable before the data was handed over (connection refused, 4xx, timeout):
  nothing was delivered, so the row goes back to ``pending`` with exponential back-off
  (``MAIL_RETRY_BASE_SECONDS`` * 2^(attempts-1), capped at ``MAIL_RETRY_MAX_SECONDS``) until
  ``MAIL_MAX_ATTEMPTS``, then ``failed``. A 5xx refusal is ``failed`` at once. **At least once:**
  no message is lost to an outage.
- The deliverer dies (crash, kill, power) while a row is claimed: when the lease expires, a
  row still in phase ``claimed`` was never handed over and returns to ``pending``. A row in
  phase ``handed`` may have been accepted by the server in the instant before the crash; it
  becomes ``uncertain`` and is **not** resent by itself. The same holds when the connection
  breaks while the data is in flight. **At most once** in that window: we never send twice
  what the server may have accepted; staff see uncertain rows in the send log and may resend.

So: exactly once while the deliverer and the server behave, none lost to an outage, and never
doubled by a crash. The window that needs a person is the few milliseconds between the end of
the data and the commit of ``sent``. Every message also carries a Message-ID derived from its
row, stable across attempts, so a resend that staff choose is recognisably the same message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select, update

from forum.db import utcnow
from forum.extensions import db
from forum.notifications import emails
from forum.notifications.models import MailPhase, MailState, OutboxMessage
from forum.notifications.senders import (
    PermanentFailure,
    Sender,
    TemporaryFailure,
    UncertainDelivery,
)

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass
class Report:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    recovered: int = 0
    withheld: int = 0
    errors: list[str] = field(default_factory=list)
    others_attempted: int = 0  # deliveries of the other outboxes (webhooks) run alongside

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed + self.uncertain + self.withheld


def backoff(attempts: int) -> timedelta:
    base = current_app.config["MAIL_RETRY_BASE_SECONDS"]
    cap = current_app.config["MAIL_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def recover_expired(now: datetime) -> int:
    """Release the rows of vanished deliverers, and commit."""
    released = release_expired(now)
    db.session.commit()
    return released


def release_expired(now: datetime) -> int:
    """Rows whose deliverer vanished: back to pending if never handed over, else uncertain."""
    expired = (OutboxMessage.state == MailState.SENDING) & (OutboxMessage.lease_until < now)
    back = db.session.execute(
        update(OutboxMessage).where(expired, OutboxMessage.phase == MailPhase.CLAIMED)
        .values(state=MailState.PENDING, phase=None, lease_until=None, next_attempt_at=now,
                last_error="the deliverer stopped before handing the message over; retrying")
        .execution_options(synchronize_session=False)).rowcount
    held = db.session.execute(
        update(OutboxMessage).where(expired, OutboxMessage.phase == MailPhase.HANDED)
        .values(state=MailState.UNCERTAIN, lease_until=None,
                last_error="the deliverer stopped while handing the message to the server; "
                           "it may have arrived, so it is not resent automatically")
        .execution_options(synchronize_session=False)).rowcount
    return (back or 0) + (held or 0)


def claim_next(now: datetime) -> OutboxMessage | None:
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    while True:
        candidate = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.state == MailState.PENDING,
                                           OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1))
        if candidate is None:
            db.session.commit()
            return None
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == candidate, OutboxMessage.state == MailState.PENDING)
            .values(state=MailState.SENDING, phase=MailPhase.CLAIMED, lease_until=now + lease,
                    attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed:
            return db.session.get(OutboxMessage, candidate, populate_existing=True)


def deliver_due(sender: Sender, *, clock: Clock = utcnow, limit: int | None = None) -> Report:
    """Send every message due now, one connection for the batch."""
    report = Report(recovered=recover_expired(clock()))
    with sender:
        while limit is None or report.attempted < limit:
            message = claim_next(clock())
            if message is None:
                break
            _deliver_one(sender, message, clock, report)
    return report


def _deliver_one(sender: Sender, message: OutboxMessage, clock: Clock, report: Report) -> None:
    message_id = message.id
    try:
        if emails.withheld(message):
            _finish(message_id, MailState.WITHHELD, clock(),
                    "not sent: the recipient can no longer see what it is about")
            report.withheld += 1
            return
        email = emails.render(message)
    except Exception as error:  # a message we cannot render will not render next time either
        log.exception("cannot render outbox message %s", message_id)
        _finish(message_id, MailState.FAILED, clock(), f"cannot render: {error!r}")
        report.failed += 1
        report.errors.append(f"{message_id}: cannot render: {error!r}")
        return
    subject = str(email["Subject"])[:200]
    # No transaction stays open while we talk to the mail server: on SQLite a transaction of
    # this process holds the write lock, and the server may take seconds to answer.
    db.session.commit()

    def handing_over() -> None:
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id)
            .values(phase=MailPhase.HANDED, subject=subject)
            .execution_options(synchronize_session=False))
        db.session.commit()

    try:
        sender.send(email, handing_over)
    except TemporaryFailure as error:
        _retry_later(message_id, clock(), str(error), report)
    except PermanentFailure as error:
        _finish(message_id, MailState.FAILED, clock(), str(error))
        report.failed += 1
        report.errors.append(f"{message_id}: {error}")
    except UncertainDelivery as error:
        _finish(message_id, MailState.UNCERTAIN, clock(), str(error))
        report.uncertain += 1
        report.errors.append(f"{message_id}: {error}")
    except Exception as error:  # our side failed (database busy…) before the data went out
        db.session.rollback()
        sender.close()
        phase = db.session.scalar(select(OutboxMessage.phase)
                                  .where(OutboxMessage.id == message_id))
        if phase == MailPhase.HANDED:
            _finish(message_id, MailState.UNCERTAIN, clock(), repr(error))
            report.uncertain += 1
        else:
            _retry_later(message_id, clock(), repr(error), report)
    else:
        _finish(message_id, MailState.SENT, clock(), "")
        report.sent += 1


def _retry_later(message_id: int, now: datetime, error: str, report: Report) -> None:
    db.session.rollback()
    attempts = db.session.scalar(select(OutboxMessage.attempts)
                                 .where(OutboxMessage.id == message_id)) or 0
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        _finish(message_id, MailState.FAILED, now, f"gave up after {attempts} attempts: {error}")
        report.failed += 1
    else:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == MailState.SENDING)
            .values(state=MailState.PENDING, phase=None, lease_until=None, last_error=error,
                    next_attempt_at=now + backoff(attempts))
            .execution_options(synchronize_session=False))
        db.session.commit()
        report.retrying += 1
    report.errors.append(f"{message_id}: {error}")


def _finish(message_id: int, state: MailState, now: datetime, error: str) -> None:
    db.session.rollback()
    values: dict = {"state": state, "lease_until": None}
    if state == MailState.SENT:
        values["sent_at"] = now
    if error:
        values["last_error"] = error
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == MailState.SENDING)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def due_count(now: datetime) -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.state == MailState.PENDING, OutboxMessage.next_attempt_at <= now)) or 0


class OtherOutbox(Protocol):
    """Another outbox delivered in the same loop (webhooks): ``deliver_due(clock=…)``."""

    def __call__(self, *, clock: Clock) -> Any: ...


def run(sender: Sender, *, once: bool, interval: float, clock: Clock = utcnow,
        echo: Callable[[str], None] = print, others: Sequence[OtherOutbox] = ()) -> Report:
    """The deliverer: digests when due, then the outbox, then the ``others`` (each returns a
    report with ``attempted``, ``failed``, ``errors`` and ``summary()``, counted into the
    total's ``failed``); ``once`` drains and returns."""
    from forum.notifications.services import queue_due_digests

    total = Report()
    while True:
        try:
            digests = queue_due_digests(clock())
            db.session.commit()
            report = deliver_due(sender, clock=clock)
            other_reports = [deliver_other(clock=clock) for deliver_other in others]
        except Exception:
            db.session.rollback()
            if once:
                raise
            log.exception("delivery round failed; trying again in %ss", interval)
            time.sleep(interval)
            continue
        for attr in ("sent", "retrying", "failed", "uncertain", "recovered", "withheld"):
            setattr(total, attr, getattr(total, attr) + getattr(report, attr))
        total.errors += report.errors
        if report.attempted or digests:
            echo(f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed, "
                 f"{report.uncertain} uncertain"
                 + (f", {report.withheld} withheld" if report.withheld else "")
                 + (f", {digests} digests queued" if digests else ""))
        for error in report.errors:
            echo(f"  {error}")
        for other in other_reports:
            total.failed += other.failed
            total.others_attempted += other.attempted
            if other.attempted:
                echo(other.summary())
            for error in other.errors:
                echo(f"  {error}")
        if once:
            return total
        db.session.remove()
        time.sleep(interval)
