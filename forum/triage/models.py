from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import utcnow
from forum.extensions import db


class AuditEntry(db.Model):
    """Who changed what, when, with the values before and after. Never edited or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_idea_created", "idea_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # e.g. idea.edit, idea.hide, comment.edit, idea.owner, idea.tags, board.update, user.ban
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))  # idea, comment, board, tag, user
    target_id: Mapped[int]
    # The idea the change belongs to, so its page can show its trail in one query.
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="SET NULL"))
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class SavedView(db.Model):
    """A staff member's named filter: the query string of the staff idea list."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportRecord(db.Model):
    """Which idea a row of an imported file became: importing the same file twice finds it."""

    __tablename__ = "import_records"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # fider, generic
    external_id: Mapped[str] = mapped_column(String(120))
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    # Fider's export gives a vote count but not the voters; kept so nothing is silently lost.
    source_votes: Mapped[int] = mapped_column(default=0)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
