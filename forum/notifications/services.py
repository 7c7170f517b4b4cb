"""Operations of the notifications area: in-app notices, outbox rows, preferences, unsubscribe,
digests and the send log. They flush and never commit.

Fan-out is set-based (``INSERT … SELECT``): shipping an idea with 100,000 voters writes their
notices and messages in two statements inside the status change's own transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    Select,
    String,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import selectinload

from forum.accounts.models import NotifyFrequency, User
from forum.db import UTCDateTime, utcnow
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.ideas import queries
from forum.ideas import services as ideas
from forum.ideas.models import Comment, Idea, StatusChange, Subscription, SubscriptionLevel
from forum.ideas.workflow import StatusKind
from forum.notifications import recipients
from forum.notifications.models import (
    MailState,
    NoticeKind,
    Notification,
    OutboxMessage,
)
from forum.notifications.recipients import Audience

# --- fan-out ------------------------------------------------------------------------------


def notify_status_change(change: StatusChange, by: User | None) -> int:
    """Tell the people who follow the idea (and, for shipped, every voter of its group);
    record in the history how many will hear by email, now or in their digest."""
    idea = db.session.get(Idea, change.idea_id)
    shipped = change.to_status.kind == StatusKind.COMPLETE
    audience = recipients.for_status_change(idea, shipped=shipped, exclude=by)
    kind = NoticeKind.SHIPPED if shipped else NoticeKind.STATUS_CHANGED
    in_digest = _insert_notices(audience, kind, idea.id, shipped=shipped,
                                status_change_id=change.id)
    mailed = _insert_messages(audience, kind.value, idea.id, {"status_change_id": change.id},
                              shipped=shipped)
    change.notified_count = mailed + in_digest
    db.session.flush()
    return change.notified_count


def notify_comment(comment: Comment, idea: Idea, author: User) -> None:
    if comment.is_internal:
        return
    audience = recipients.for_comment(idea, exclude=author)
    _insert_notices(audience, NoticeKind.COMMENT, idea.id, comment_id=comment.id)
    _insert_messages(audience, "comment", idea.id, {"comment_id": comment.id})


def notify_merge(canonical: Idea, merged: Idea, by: User | None) -> None:
    """"Your idea was merged into A; your vote counts there", to B's voters and followers."""
    audience = recipients.for_merge(merged, exclude=by)
    _insert_notices(audience, NoticeKind.MERGED, canonical.id, merged_idea_id=merged.id)
    _insert_messages(audience, "merged", canonical.id, {"merged_idea_id": merged.id})


def preview_status_change(idea: Idea, to_kind: StatusKind, by: User | None
                          ) -> recipients.Preview:
    audience = recipients.for_status_change(
        ideas.canonical(idea), shipped=to_kind == StatusKind.COMPLETE, exclude=by)
    return recipients.preview(audience)


_NOTICE_COLUMNS = ["user_id", "kind", "idea_id", "status_change_id", "comment_id",
                   "merged_idea_id", "digest_pending", "created_at"]


def _insert_notices(audience: Audience, kind: NoticeKind, idea_id: int, *, shipped: bool = False,
                    status_change_id: int | None = None, comment_id: int | None = None,
                    merged_idea_id: int | None = None) -> int:
    """One notice per person told; returns how many of them read it in their digest."""
    now = utcnow()

    def rows(digest: bool, *where) -> Select:
        return select(
            User.id, literal(kind.value, String), literal(idea_id, Integer),
            literal(status_change_id, Integer), literal(comment_id, Integer),
            literal(merged_idea_id, Integer), literal(digest, Boolean),
            literal(now, UTCDateTime()),
        ).where(*audience.conditions(), *where)

    if shipped:  # shipped news is mailed at once to digest readers too
        db.session.execute(insert(Notification).from_select(_NOTICE_COLUMNS, rows(False)))
        return 0
    digest = recipients.reads_digest()
    db.session.execute(insert(Notification).from_select(_NOTICE_COLUMNS, rows(False, ~digest)))
    # Counted from RETURNING: psycopg reports no row count for INSERT … SELECT here (-1).
    return len(db.session.connection().execute(insert(Notification).from_select(
        _NOTICE_COLUMNS, rows(True, digest)).returning(Notification.id)).all())


def _insert_messages(audience: Audience, template: str, idea_id: int, params: dict[str, Any],
                     *, shipped: bool = False) -> int:
    """One outbox row per person emailed now; returns how many."""
    mailed = recipients.mailed_now(audience, shipped=shipped).subquery()
    now = utcnow()
    rows = select(
        literal(template, String),
        mailed.c.email,
        mailed.c.id,
        literal(idea_id, Integer),
        literal(params, JSON),
        literal(MailState.PENDING.value, String),
        literal(0, Integer),
        literal(now, UTCDateTime()),
        literal("", String),
        literal("", String),
        literal(now, UTCDateTime()),
    )
    result = db.session.connection().execute(insert(OutboxMessage).from_select(
        ["template", "to_address", "user_id", "idea_id", "params", "state", "attempts",
         "next_attempt_at", "last_error", "subject", "created_at"], rows)
        .returning(OutboxMessage.id))
    return len(result.all())


def enqueue(template: str, *, to: str, user: User | None = None, idea: Idea | None = None,
            params: dict[str, Any] | None = None) -> OutboxMessage:
    """One message to one address, written in the caller's transaction."""
    message = OutboxMessage(template=template, to_address=to, user=user,
                            idea_id=idea.id if idea else None, params=params or {})
    db.session.add(message)
    db.session.flush()
    return message


def queue_account_mail(template: str, user: User) -> OutboxMessage | None:
    """A reset or confirmation link, at most once per person per PASSWORD_RESET_INTERVAL
    seconds, so that a form cannot be used to flood someone's inbox."""
    since = utcnow() - timedelta(seconds=current_app.config["PASSWORD_RESET_INTERVAL"])
    recent = db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.user_id == user.id, OutboxMessage.template == template,
        OutboxMessage.created_at >= since).limit(1))
    if recent is not None:
        return None
    return enqueue(template, to=user.email, user=user)


# --- digests ------------------------------------------------------------------------------


def digest_cutoff(now: datetime) -> datetime:
    """The latest digest time (DIGEST_HOUR, UTC) at or before ``now``."""
    cutoff = now.replace(hour=current_app.config["DIGEST_HOUR"], minute=0, second=0,
                         microsecond=0)
    return cutoff if cutoff <= now else cutoff - timedelta(days=1)


def queue_due_digests(now: datetime | None = None) -> int:
    """One digest per daily reader gathering what happened before today's digest time."""
    cutoff = digest_cutoff(now or utcnow())
    # Someone who left the daily digest gets nothing more of it.
    db.session.execute(
        update(Notification).where(
            Notification.digest_pending.is_(True),
            Notification.user_id.in_(select(User.id).where(
                User.notify_frequency != NotifyFrequency.DAILY)))
        .values(digest_pending=False).execution_options(synchronize_session=False))
    rows = db.session.execute(
        select(Notification.user_id, Notification.id)
        .where(Notification.digest_pending.is_(True), Notification.created_at < cutoff)
        .order_by(Notification.user_id, Notification.id)
    ).all()
    by_user: dict[int, list[int]] = defaultdict(list)
    for user_id, notice_id in rows:
        by_user[user_id].append(notice_id)
    for user_id, notice_ids in by_user.items():
        user = db.session.get(User, user_id)
        enqueue("digest", to=user.email, user=user, params={"notification_ids": notice_ids})
        db.session.execute(update(Notification).where(Notification.id.in_(notice_ids))
                           .values(digest_pending=False)
                           .execution_options(synchronize_session=False))
    db.session.flush()
    return len(by_user)


# --- in-app notices -----------------------------------------------------------------------


def _seen_by(user: User) -> list:
    """On ``notifications``: about ideas this person can still see (the bell shows titles)."""
    if user.is_staff:
        return []
    shown = queries.visible_ids(queries.visible_board_ids(signed_in=True, is_staff=False))
    return [Notification.idea_id.in_(shown),
            Notification.merged_idea_id.is_(None) | Notification.merged_idea_id.in_(shown)]


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), *_seen_by(user))) or 0


def notices_of(user: User) -> Select:
    return (select(Notification).where(Notification.user_id == user.id, *_seen_by(user))
            .options(selectinload(Notification.status_change).joinedload(StatusChange.to_status),
                     selectinload(Notification.comment).joinedload(Comment.author),
                     selectinload(Notification.merged_idea))
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def open_notice(user: User, notice_id: int) -> Notification:
    notice = db.session.get(Notification, notice_id)
    if notice is None or notice.user_id != user.id:
        raise NotFound(_l("No such notification."))
    notice.read_at = notice.read_at or utcnow()
    db.session.flush()
    return notice


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id,
                                   Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- preferences and unsubscribe ----------------------------------------------------------


def followed(user: User) -> list[tuple[Idea, SubscriptionLevel]]:
    rows = db.session.execute(
        select(Idea, Subscription.level).join(Subscription, Subscription.idea_id == Idea.id)
        .where(Subscription.user_id == user.id)
        .order_by(Subscription.created_at.desc(), Idea.id.desc())
    ).all()
    # An idea can leave someone's sight after they followed it (hidden, moved to a private
    # board, merged into a private idea): their list must not show it any more.
    return [(idea, level) for idea, level in rows if ideas.can_see(idea, user)]


def set_preferences(user: User, *, frequency: str, levels: dict[int, str]) -> None:
    """The global frequency and any per-idea levels the person changed."""
    try:
        user.notify_frequency = NotifyFrequency(frequency)
    except ValueError:
        raise ValidationError(_l("Choose how often we email you."),
                              {"frequency": _l("Choose one of the options.")}) from None
    mine = dict(db.session.execute(select(Subscription.idea_id, Subscription.level)
                                   .where(Subscription.user_id == user.id)).all())
    for idea_id, value in levels.items():
        if idea_id not in mine:
            continue  # only ideas they already follow: nobody subscribes by forged form
        try:
            level = SubscriptionLevel(value)
        except ValueError:
            raise ValidationError(_l("Unknown notification level."),
                                  {"levels": _l("Choose one of the options.")}) from None
        if mine[idea_id] != level:
            ideas.set_subscription(db.session.get(Idea, idea_id), user, level)
    db.session.flush()


def unsubscribe(user_id: int, idea_id: int | None) -> tuple[User, Idea | None]:
    """What an unsubscribe link or List-Unsubscribe POST does: silence that idea for that
    person, or (for digests and account mail) all email."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("This link belongs to an account that no longer exists."))
    idea = db.session.get(Idea, idea_id) if idea_id is not None else None
    if idea is not None:
        idea = ideas.canonical(idea)
        ideas.set_subscription(idea, user, SubscriptionLevel.NONE)
    else:
        user.notify_frequency = NotifyFrequency.NEVER
    db.session.flush()
    return user, idea


def stop_all_email(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("This link belongs to an account that no longer exists."))
    user.notify_frequency = NotifyFrequency.NEVER
    db.session.flush()
    return user


# --- the send log -------------------------------------------------------------------------


def mail_log() -> Select:
    return select(OutboxMessage).order_by(OutboxMessage.id.desc())


def state_counts() -> dict[str, int]:
    counts = dict(db.session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    return {state.value: counts.get(state, 0) for state in MailState}


def last_error() -> OutboxMessage | None:
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.last_error != "")
        .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc()).limit(1))


def send_test(to: str, by: User) -> OutboxMessage:
    from forum.accounts.services import normalise_email

    if not by.is_staff:
        raise ValidationError(_l("Only the team can send test messages."))
    # Written in the sender's language: the address may belong to no account.
    return enqueue("test", to=normalise_email(to), user=None,
                   params={"by": by.name, "locale": str(get_locale())})


def retry(message_id: int, by: User) -> OutboxMessage:
    """Staff's decision to send a failed or uncertain message (again)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_l("No such message."))
    if message.state not in (MailState.FAILED, MailState.UNCERTAIN):
        raise ValidationError(_l("Only failed or uncertain messages can be retried."))
    message.state = MailState.PENDING
    message.phase = None
    message.next_attempt_at = utcnow()
    message.last_error = f"{message.last_error} (retry asked by {by.name})".strip()
    db.session.flush()
    return message

