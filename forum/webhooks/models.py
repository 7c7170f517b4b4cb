from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin, str_enum, utcnow
from forum.extensions import db


class WebhookEndpoint(TimestampMixin, db.Model):
    """An admin's subscription of another tool's URL to some of the forum's events."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(2000))
    # Kept as it is: every delivery is signed with it, so it cannot be a one-way hash like
    # an API token's. The admin page shows it once, when made or rotated.
    secret: Mapped[str] = mapped_column(String(80))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Off: only what an anonymous visitor may see is sent (public boards, ideas not hidden).
    include_private: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()


class DeliveryState(enum.StrEnum):
    PENDING = "pending"      # waiting for its first or next attempt (next_attempt_at)
    SENDING = "sending"      # claimed by one deliverer until lease_until
    DELIVERED = "delivered"  # the receiver answered 2xx; final
    FAILED = "failed"        # out of attempts; stays in the log, an admin may redeliver


class WebhookDelivery(db.Model):
    """One event for one endpoint: an outbox row, written in the transaction of the change.

    ``body`` is the exact JSON posted, fixed when the event happened, so every attempt sends
    the same bytes with the same ``delivery_id`` and a receiver can drop repeats."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
                      Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState, "delivery_state"),
                                                 default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    status_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()


class StatusHook(TimestampMixin, db.Model):
    """An incoming webhook: another tool posts here, signed, to change ideas' statuses."""

    __tablename__ = "status_hooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The URL names the hook by a random key rather than its id: nobody learns which hooks
    # exist by counting.
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    secret: Mapped[str] = mapped_column(String(80))
    # Where a GitHub release (published) or merged pull request moves the ideas it mentions.
    github_status_id: Mapped[int | None] = mapped_column(
        ForeignKey("statuses.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    last_used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    github_status = relationship("Status")
