from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from forum.db import str_enum, utcnow
from forum.extensions import db


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


# The team: the people who triage, answer and ship, and may see staff-only boards.
TEAM_ROLES = (Role.STAFF, Role.ADMIN)


class NotifyFrequency(enum.StrEnum):
    IMMEDIATELY = "immediately"
    DAILY = "daily"
    NEVER = "never"



def hashable(password: str) -> str:
    """A lone surrogate (possible in JSON, never typed in a form) cannot be encoded to hash;
    it is replaced, the same way when setting and when checking."""
    return password.encode("utf-8", "replace").decode("utf-8")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    # None for people added by staff (vote on behalf) until they set one.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Indexed: the team is a handful among 100,000 customers, and the triage pages list it
    # (20 ms a page reading every person).
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.CUSTOMER, index=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    notify_frequency: Mapped[NotifyFrequency] = mapped_column(
        str_enum(NotifyFrequency, "notify_frequency"), default=NotifyFrequency.IMMEDIATELY
    )
    # Set when the person proved the address is theirs (or an operator created the account);
    # notification email goes only to confirmed addresses.
    email_confirmed_at: Mapped[datetime | None]
    # Indexed: every list hides banned authors with "author_id NOT IN (banned ids)", which
    # otherwise scans every person on each page view.
    is_banned: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]

    def set_password(self, password: str, method: str = "scrypt") -> None:
        # scrypt (werkzeug's default) is memory-hard and needs no extra dependency.
        self.password_hash = generate_password_hash(hashable(password), method=method)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash,
                                                                hashable(password))

    @property
    def is_staff(self) -> bool:
        return self.role in TEAM_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_active(self) -> bool:  # Flask-Login: banned people cannot sign in
        return not self.is_banned

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class ApiToken(db.Model):
    """A named bearer token for scripts and other tools. Only a SHA-256 of the secret is
    stored: the secret is shown once, when it is created."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # SHA-256 hex of the whole token. The token carries 256 bits of randomness, so a fast hash
    # is enough: there is nothing to guess, only something to look up.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    owner: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r}>"
