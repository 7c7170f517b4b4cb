from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.db import TimestampMixin, str_enum, utcnow
from forum.extensions import db
from forum.ideas.ranking import NO_VOTES
from forum.ideas.workflow import StatusKind


class Visibility(enum.StrEnum):
    PUBLIC = "public"      # anyone, signed in or not
    MEMBERS = "members"    # signed-in people only
    STAFF = "staff"        # staff only


class VoteSource(enum.StrEnum):
    WEB = "web"
    API = "api"
    # On the web, from "Vote for this instead" beside the similar ideas shown while posting a
    # new one: the insights count how often people pick an existing idea over a duplicate.
    SUGGESTED = "suggested"
    SUPPORT = "support"  # staff voted on behalf of a customer they met
    SALES = "sales"
    IMPORT = "import"


class SubscriptionLevel(enum.StrEnum):
    ALL = "all"        # comments and status changes
    STATUS = "status"  # status changes only (what a vote gives you)
    NONE = "none"      # chosen silence; remembered so voting again does not resubscribe


class Board(db.Model):
    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, "visibility"), default=Visibility.PUBLIC
    )
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Board {self.slug}>"


class Status(db.Model):
    __tablename__ = "statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[StatusKind] = mapped_column(str_enum(StatusKind, "status_kind"))
    color: Mapped[str] = mapped_column(String(7), default="#6b7280")
    position: Mapped[int] = mapped_column(default=0)
    on_roadmap: Mapped[bool] = mapped_column(default=False)
    # The status a new idea starts in; exactly one is the default.
    is_default: Mapped[bool] = mapped_column(default=False)
    retired: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Status {self.slug}>"


idea_tags = Table(
    "idea_tags",
    db.metadata,
    Column("idea_id", ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    color: Mapped[str] = mapped_column(String(7), default="#64748b")


# The rows a list page shows to people: canonical ideas that are not hidden.
LISTED = "merged_into_id IS NULL AND hidden_at IS NULL"


def _board_list_index(name: str, column: str) -> Index:
    """One board's listed ideas already in list order: a page reads 20 index entries instead of
    sorting the board. ``id`` is the tie-break of every list order (PostgreSQL needs it spelled
    out; SQLite has it anyway as the rowid)."""
    return Index(name, "board_id", column, "id", sqlite_where=text(LISTED),
                 postgresql_where=text(LISTED))


class Idea(TimestampMixin, db.Model):
    __tablename__ = "ideas"
    __table_args__ = (
        # Several boards at once (and staff, who also see hidden ideas): walk one order over
        # all canonical ideas and skip the few of other boards.
        Index("ix_ideas_list_top", "merged_into_id", "vote_count"),
        Index("ix_ideas_list_trending", "merged_into_id", "trending_score"),
        Index("ix_ideas_list_new", "merged_into_id", "created_at"),
        Index("ix_ideas_list_activity", "merged_into_id", "last_activity_at"),
        # One board: see _board_list_index.
        _board_list_index("ix_ideas_board_top", "vote_count"),
        _board_list_index("ix_ideas_board_trending", "trending_score"),
        _board_list_index("ix_ideas_board_new", "created_at"),
        _board_list_index("ix_ideas_board_activity", "last_activity_at"),
        # Counting the listed ideas of some boards (the API's "total") reads only this index:
        # every column the count tests is in it. Through ix_ideas_list_* it looked up each row
        # (140 ms at 100,000 ideas instead of 9 ms). It also serves any lookup by board.
        Index("ix_ideas_board_listed", "board_id", "merged_into_id", "hidden_at", "author_id"),
        # The triage inbox (listed ideas nobody on the team has acted on): its count read every
        # idea, 220 ms at 100,000 ideas, and reads these entries alone in 4 ms. Votes do not
        # touch it: none of its columns is one a vote changes.
        Index("ix_ideas_inbox", "staff_acted_at", sqlite_where=text(LISTED),
              postgresql_where=text(LISTED)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    # Denormalised, changed in the same transaction as the rows they count (see services).
    # vote_count: distinct people who voted on this idea or on any idea merged into it.
    vote_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)
    trending_score: Mapped[float] = mapped_column(default=NO_VOTES)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id"))
    merged_at: Mapped[datetime | None]
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    impact: Mapped[int | None]
    effort: Mapped[int | None]
    # Set the first time staff acts on the idea; the triage inbox lists those still unset.
    staff_acted_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship(lazy="joined", innerjoin=True)
    status: Mapped[Status] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    merged_into: Mapped[Idea | None] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id]
    )
    tags: Mapped[list[Tag]] = relationship(secondary=idea_tags, order_by=Tag.name)

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    def __repr__(self) -> str:
        return f"<Idea {self.id} {self.title!r}>"


class Vote(db.Model):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[VoteSource] = mapped_column(
        str_enum(VoteSource, "vote_source"), default=VoteSource.WEB
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Comment(TimestampMixin, db.Model):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_idea_created", "idea_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # Internal notes: visible to staff only, clearly marked.
    is_internal: Mapped[bool] = mapped_column(default=False)
    hidden_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    idea: Mapped[Idea] = relationship()


class StatusChange(db.Model):
    """One row per status change: the public timeline of an idea."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    from_status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id"))
    to_status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    via: Mapped[str] = mapped_column(String(20), default="web")  # web, api, cli, webhook
    notified_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    from_status: Mapped[Status | None] = relationship(foreign_keys=[from_status_id])
    to_status: Mapped[Status] = relationship(foreign_keys=[to_status_id])
    changed_by: Mapped[User | None] = relationship()


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    level: Mapped[SubscriptionLevel] = mapped_column(
        str_enum(SubscriptionLevel, "subscription_level")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdeaMerge(db.Model):
    """The merge an idea took part in as the duplicate, kept while it lasts.

    ``into_id`` is the idea it was merged into at the time. When that idea is merged in turn,
    the chain is flattened (``Idea.merged_into_id`` moves on to the new canonical idea) but this
    row still names the idea it was merged into, so unmerging that one can take it back.
    """

    __tablename__ = "idea_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), unique=True)
    into_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Merging is a staff action on the duplicate; unmerging puts the author's edit right back.
    previous_staff_acted_at: Mapped[datetime | None]


class DuplicateDismissal(db.Model):
    """Staff said these two ideas are not duplicates: the queue never proposes them again."""

    __tablename__ = "duplicate_dismissals"
    __table_args__ = (UniqueConstraint("first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # first_id < second_id: one row per unordered pair.
    first_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
