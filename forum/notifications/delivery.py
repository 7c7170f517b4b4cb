"""Delivering the outbox (``flask forum deliver``), and what we promise about it.

Every outbox row is written in the same transaction as the change that causes it, so a message
exists if and only if the change was committed. Delivery then moves each row through:

    pending --claim--> sending/claimed --handing over--> sending/handed --250--> sent
       ^                    |                                  |
       +---- back-off ------+ (refused before DATA: 4xx,       +-- deliverer died here:
             (temporary)      connection refused, timeout)          uncertain (not resent)

1. **Claim.** A deliverer takes up to ``BATCH_SIZE`` due rows with a conditional ``UPDATE …
   WHERE state = 'pending'`` and commits: two deliverers never hold the same row. The claim is
   a lease (``MAIL_LEASE_SECONDS``); ``attempts`` counts it and, with the row's id, names it:
   every later write of the deliverer requires the count it claimed, so one whose lease ran
   out (a server slow enough) cannot hand over or mark a row released or claimed since.
   Stopped by Ctrl+C or SIGTERM, a deliverer finishes the message in hand and gives back the
   rows it had not started (a second signal stops it at once, giving back the same way).
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
from sqlalchemy.orm import joinedload

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


class Stop:
    """The operator's request to stop, set from a signal handler. It holds no lock, unlike
    ``threading.Event``: a handler runs in the main thread between two bytecodes, possibly
    while that thread holds the very lock it would take."""

    def __init__(self) -> None:
        self.requested = False

    def set(self) -> None:
        self.requested = True

    def is_set(self) -> bool:
        return self.requested

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking within a tenth of a second of a stop."""
        deadline = time.monotonic() + seconds
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
        return self.requested


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


# Rows claimed in one statement. A batch shares one read of the ideas and people its messages
# are about; a deliverer that dies leaves at most this many rows waiting for their lease.
BATCH_SIZE = 50
BATCH_SECONDS = 10.0
OUTBOX = OutboxMessage.__table__


@dataclass(frozen=True)
class Claim:
    """A row this deliverer holds. ``attempts`` after the claim names the claim: should the
    lease run out and another deliverer claim the row, its count is higher and every write of
    ours (``_mine``) matches nothing."""

    id: int
    attempts: int


class LostClaim(Exception):
    """The lease ran out and the row was released (or claimed by another deliverer) before we
    handed the message over: it is theirs now, and nothing was sent."""


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])


def _mine(claim: Claim):
    return ((OUTBOX.c.id == claim.id) & (OUTBOX.c.state == MailState.SENDING)
            & (OUTBOX.c.attempts == claim.attempts))


def claim_batch(now: datetime, size: int = BATCH_SIZE) -> list[Claim]:
    """Claim up to ``size`` due rows, oldest due first, and commit. Two deliverers may pick the
    same candidates; the conditional UPDATE gives each row to one of them."""
    while True:
        candidates = db.session.scalars(
            select(OUTBOX.c.id).where(OUTBOX.c.state == MailState.PENDING,
                                      OUTBOX.c.next_attempt_at <= now)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id).limit(size)).all()
        if not candidates:
            db.session.commit()
            return []
        claimed = dict(db.session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(candidates), OUTBOX.c.state == MailState.PENDING)
            .values(state=MailState.SENDING, phase=MailPhase.CLAIMED, lease_until=now + _lease(),
                    attempts=OUTBOX.c.attempts + 1)
            .returning(OUTBOX.c.id, OUTBOX.c.attempts)).all())
        db.session.commit()
        if claimed:
            return [Claim(id, claimed[id]) for id in candidates if id in claimed]


def deliver_due(sender: Sender, *, clock: Clock = utcnow, limit: int | None = None,
                stop: Stop | None = None) -> Report:
    """Send every message due now, one connection for the batch; once ``stop`` is set, finish
    the message in hand, give back the rest of the batch and return."""
    report = Report(recovered=recover_expired(clock()))
    stop = stop or Stop()
    with sender:
        while (limit is None or report.attempted < limit) and not stop.is_set():
            size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - report.attempted)
            claims = claim_batch(clock(), size)
            if not claims:
                break
            _deliver_batch(sender, claims, clock, report, stop)
    return report


def _deliver_batch(sender: Sender, claims: list[Claim], clock: Clock, report: Report,
                   stop: Stop) -> None:
    # A batch ends after BATCH_SECONDS (or half the lease) even against a slow server: its
    # rows stay well inside their lease, and what it read stays at most that old.
    deadline = clock() + min(timedelta(seconds=BATCH_SECONDS), _lease() / 2)
    session = db.session()
    # The rows the messages are about (the idea, its change, the recipients) are read once per
    # batch: our commits of each row's progress must not expire them. A batch lasts a quarter
    # of a second while the server answers and BATCH_SECONDS at most, so "withheld" is decided
    # on a view at most that old.
    expiring, session.expire_on_commit = session.expire_on_commit, False
    done = 0
    try:
        messages = {m.id: m for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_([c.id for c in claims]))
            .options(joinedload(OutboxMessage.user)))}
        with emails.batch():
            for done, claim in enumerate(claims):
                # Stopped by the operator, or the batch's time is up: the rest goes back at
                # once (after a timeout it is claimed again, and read afresh).
                if stop.is_set() or clock() > deadline:
                    release(claims[done:])
                    break
                if claim.id in messages:  # else deleted since (its person or idea, say)
                    _deliver_one(sender, claim, messages[claim.id], clock, report)
    except KeyboardInterrupt:
        # Stopped at once (a second Ctrl+C or SIGTERM): what we had not started on goes back
        # now rather than when the lease runs out. A row being handed over stays ours
        # (uncertain, not resent).
        try:
            drop_interrupted_connection()
            release(claims[done:])
        except Exception:  # the stop stays a clean stop; the lease returns them later
            log.exception("could not give back the rows of an interrupted batch")
        raise
    finally:
        session.expire_on_commit = expiring
        session.expire_all()


def drop_interrupted_connection() -> None:
    """End the session's transaction after an interrupt, which may have landed in the middle
    of a statement: psycopg then refuses every further command on that connection (even the
    rollback), so it is discarded rather than handed back to the pool."""
    try:
        db.session.rollback()
    except Exception:
        db.session.invalidate()


def release(claims: list[Claim]) -> None:
    """Give back rows we claimed and never handed over, as if never claimed, and commit."""
    for claim in claims:
        db.session.execute(
            update(OUTBOX).where(_mine(claim), OUTBOX.c.phase == MailPhase.CLAIMED)
            .values(state=MailState.PENDING, phase=None, lease_until=None,
                    attempts=OUTBOX.c.attempts - 1))
    db.session.commit()


def _deliver_one(sender: Sender, claim: Claim, message: OutboxMessage, clock: Clock,
                 report: Report) -> None:
    try:
        if emails.withheld(message):
            _finish(claim, MailState.WITHHELD, clock(),
                    "not sent: the recipient can no longer see what it is about")
            report.withheld += 1
            return
        email = emails.render(message)
    except Exception as error:  # a message we cannot render will not render next time either
        log.exception("cannot render outbox message %s", claim.id)
        db.session.rollback()
        _finish(claim, MailState.FAILED, clock(), f"cannot render: {error!r}")
        report.failed += 1
        report.errors.append(f"{claim.id}: cannot render: {error!r}")
        return
    subject = email.subject[:200]
    # No transaction stays open while we talk to the mail server: on SQLite a transaction of
    # this process holds the write lock, and the server may take seconds to answer.
    db.session.commit()

    def handing_over() -> None:
        # Still ours? A batch claimed long ago (a slow server) may have lost its lease.
        handed = db.session.execute(
            update(OUTBOX).where(_mine(claim), OUTBOX.c.phase == MailPhase.CLAIMED)
            .values(phase=MailPhase.HANDED, subject=subject, lease_until=clock() + _lease())
        ).rowcount
        db.session.commit()
        if not handed:
            raise LostClaim(f"outbox message {claim.id} was released before it was sent")

    try:
        sender.send(email, handing_over)
    except LostClaim as error:
        sender.close()  # the server holds our envelope; the next message starts afresh
        log.warning("%s", error)
    except TemporaryFailure as error:
        _retry_later(claim, clock(), str(error), report)
    except PermanentFailure as error:
        _finish(claim, MailState.FAILED, clock(), str(error))
        report.failed += 1
        report.errors.append(f"{claim.id}: {error}")
    except UncertainDelivery as error:
        _finish(claim, MailState.UNCERTAIN, clock(), str(error))
        report.uncertain += 1
        report.errors.append(f"{claim.id}: {error}")
    except Exception as error:  # our side failed (database busy…) before the data went out
        db.session.rollback()
        sender.close()
        phase = db.session.scalar(select(OUTBOX.c.phase).where(OUTBOX.c.id == claim.id))
        if phase == MailPhase.HANDED:
            _finish(claim, MailState.UNCERTAIN, clock(), repr(error))
            report.uncertain += 1
        else:
            _retry_later(claim, clock(), repr(error), report)
    else:
        _finish(claim, MailState.SENT, clock(), "")
        report.sent += 1


def _retry_later(claim: Claim, now: datetime, error: str, report: Report) -> None:
    if claim.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        _finish(claim, MailState.FAILED, now, f"gave up after {claim.attempts} attempts: {error}")
        report.failed += 1
    else:
        db.session.execute(
            update(OUTBOX).where(_mine(claim))
            .values(state=MailState.PENDING, phase=None, lease_until=None, last_error=error,
                    next_attempt_at=now + backoff(claim.attempts)))
        db.session.commit()
        report.retrying += 1
    report.errors.append(f"{claim.id}: {error}")


def _finish(claim: Claim, state: MailState, now: datetime, error: str) -> None:
    values: dict = {"state": state, "lease_until": None}
    if state == MailState.SENT:
        values["sent_at"] = now
    if error:
        values["last_error"] = error
    db.session.execute(update(OUTBOX).where(_mine(claim)).values(**values))
    db.session.commit()


def due_count(now: datetime) -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.state == MailState.PENDING, OutboxMessage.next_attempt_at <= now)) or 0


class OtherOutbox(Protocol):
    """Another outbox delivered in the same loop (webhooks): ``deliver_due(clock=…, stop=…)``,
    which returns once ``stop`` is set and the delivery in hand is done."""

    def __call__(self, *, clock: Clock, stop: Stop) -> Any: ...


def run(sender: Sender, *, once: bool, interval: float, clock: Clock = utcnow,
        echo: Callable[[str], None] = print, others: Sequence[OtherOutbox] = (),
        stop: Stop | None = None) -> Report:
    """The deliverer: digests when due, then the outbox, then the ``others`` (each returns a
    report with ``attempted``, ``failed``, ``errors`` and ``summary()``, counted into the
    total's ``failed``); ``once`` drains and returns, and so does a set ``stop``, once the
    messages in hand are done."""
    from forum.notifications.services import queue_due_digests

    total = Report()
    stop = stop or Stop()
    while True:
        try:
            digests = queue_due_digests(clock())
            db.session.commit()
            report = deliver_due(sender, clock=clock, stop=stop)
            other_reports = [deliver_other(clock=clock, stop=stop) for deliver_other in others]
        except Exception:
            db.session.rollback()
            if once:
                raise
            log.exception("delivery round failed; trying again in %ss", interval)
            if stop.wait(interval):
                return total
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
        if once or stop.is_set():
            return total
        db.session.remove()
        if stop.wait(interval):  # a stop wakes it at once
            return total
