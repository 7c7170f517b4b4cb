from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import str_enum, utcnow
from forum.extensions import db


class NoticeKind(enum.StrEnum):
    STATUS_CHANGED = "status_changed"
    SHIPPED = "shipped"
    COMMENT = "comment"
    MERGED = "merged"


class Notification(db.Model):
    """An in-app notice (the bell). Worded when shown, so it reads in the viewer's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),
                      Index("ix_notifications_digest", "digest_pending", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind, "notice_kind"))
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    status_change_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_changes.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    # The idea merged into ``idea_id`` (kind "merged").
    merged_idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    # True while a daily-digest reader still has to receive it by email.
    digest_pending: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    idea = relationship("Idea", foreign_keys=[idea_id], lazy="joined", innerjoin=True)
    merged_idea = relationship("Idea", foreign_keys=[merged_idea_id])
    status_change = relationship("StatusChange")
    comment = relationship("Comment")


class MailState(enum.StrEnum):
    PENDING = "pending"      # waiting for its first or next attempt (next_attempt_at)
    SENDING = "sending"      # claimed by a deliverer until lease_until
    SENT = "sent"            # the server accepted it; final
    FAILED = "failed"        # refused for good or out of attempts; staff can retry
    UNCERTAIN = "uncertain"  # the deliverer died after handing it over; not resent by itself
    WITHHELD = "withheld"    # not sent: the recipient can no longer see what it is about; final


class MailPhase(enum.StrEnum):
    CLAIMED = "claimed"  # claimed; the server has not been given the message yet
    HANDED = "handed"    # the message data is being handed to the server


class OutboxMessage(db.Model):
    """One email to one address. Rendered at delivery, in the recipient's language."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),
                      Index("ix_outbox_user_template", "user_id", "template", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[MailState] = mapped_column(str_enum(MailState, "mail_state"),
                                             default=MailState.PENDING)
    phase: Mapped[MailPhase | None] = mapped_column(str_enum(MailPhase, "mail_phase"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship()
