"""Operations on API tokens. They flush and never commit.

A token is ``fbk_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored, so a copy of the database does not give anyone access; the secret is returned once, by
``create_token``, and cannot be shown again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from forum.accounts.models import ApiToken, User
from forum.db import utcnow
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.text import clean_input

PREFIX = "fbk_"
NAME_MAX = 80
# Writing last_used_at on every request would turn every read into a write; a minute's
# precision is all a person looking at their token list needs.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(owner: User, name: str = "") -> NewToken:
    label = " ".join(clean_input(name or "").split()) or "API token"
    if len(label) > NAME_MAX:
        raise ValidationError(_l("The name is too long."),
                              {"name": _l("Use at most %(max)d characters.", max=NAME_MAX)})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(owner=owner, name=label, token_hash=hash_secret(secret))
    db.session.add(token)
    db.session.flush()
    return NewToken(token=token, secret=secret)


def tokens_of(owner: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == owner.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)
    ))


def revoke_token(owner: User, token_id: int) -> ApiToken:
    """Revoke one of the owner's tokens. Idempotent; someone else's token is 'not found'."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != owner.id:
        raise NotFound(_l("No token with that number."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def find_active(secret: str) -> ApiToken | None:
    """The live token with this secret, or None for unknown and revoked ones."""
    if not secret.startswith(PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def touch_due(token: ApiToken) -> bool:
    """Whether ``touch`` would record this use, as far as the loaded token tells."""
    return token.last_used_at is None or token.last_used_at < utcnow() - LAST_USED_PRECISION


def touch(token: ApiToken) -> bool:
    """Record that the token was used, at most once per LAST_USED_PRECISION. Returns whether
    a row was written (the caller commits)."""
    now = utcnow()
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id,
               or_(ApiToken.last_used_at.is_(None),
                   ApiToken.last_used_at < now - LAST_USED_PRECISION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
