from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import str_enum, utcnow
from forum.extensions import db
from forum.ideas.models import Comment, Idea


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class ReportState(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    HIDDEN = "hidden"    # the content was hidden
    BANNED = "banned"    # the author was banned


class Report(db.Model):
    """Someone flagged an idea or a comment; staff resolve it from the moderation queue."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reason: Mapped[ReportReason] = mapped_column(str_enum(ReportReason, "report_reason"))
    details: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ReportState] = mapped_column(str_enum(ReportState, "report_state"),
                                               default=ReportState.OPEN)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    idea: Mapped[Idea] = relationship()
    comment: Mapped[Comment | None] = relationship()
