from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import str_enum, utcnow
from forum.extensions import db

changelog_ideas = Table(
    "changelog_ideas",
    db.metadata,
    Column("entry_id", ForeignKey("changelog_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("idea_id", ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True),
)


class ChangelogEntry(db.Model):
    __tablename__ = "changelog_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    author: Mapped[User | None] = relationship()
    ideas = relationship("Idea", secondary=changelog_ideas, order_by="Idea.id")


class Answer(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class SatisfactionAnswer(db.Model):
    """'Did this solve what you asked for?' One answer per person per idea."""

    __tablename__ = "satisfaction_answers"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[Answer] = mapped_column(str_enum(Answer, "satisfaction_answer"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
