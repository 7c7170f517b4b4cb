"""Who is calling the API: a bearer token, or the browser session guarded by the CSRF header.

On ``/api/`` paths an ``Authorization`` header is the whole identity: the session cookie is
ignored (see ``ignores_session``), so a script's token is never mixed up with a person signed in
in the same browser. Without the header the session counts, and every write must carry the
``X-CSRFToken`` header, because a browser sends the cookie on cross-site requests too.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from forum import dbtuning
from forum.accounts import tokens
from forum.accounts.models import ApiToken, User
from forum.errors import NotAllowed
from forum.extensions import csrf, db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _on_api_path() -> bool:
    return request.path.startswith("/api/")


def ignores_session() -> bool:
    """True when this request names its caller with a token instead of the session."""
    return _on_api_path() and "Authorization" in request.headers


def bearer_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def request_token() -> ApiToken | None:
    """The live token this request carries, looked up once per request."""
    if "api_token" not in g:
        secret = bearer_secret() if ignores_session() else None
        g.api_token = tokens.find_active(secret) if secret else None
    return g.api_token


def load_user_from_request(_request) -> User | None:
    """Flask-Login's request loader: the owner of a live token. Banned owners are refused in
    ``authenticate`` with 403 rather than looking anonymous."""
    token = request_token()
    return token.owner if token is not None and token.owner.is_active else None


def authenticate() -> None:
    """Before every API request: refuse bad tokens, check CSRF on session writes."""
    from forum.api.routing import Unauthenticated

    if ignores_session():
        if bearer_secret() is None:
            raise Unauthenticated("Use the header Authorization: Bearer <token>.")
        token = request_token()
        if token is None:
            raise Unauthenticated("This API token is unknown or has been revoked.")
        if token.owner.is_banned:
            raise NotAllowed("This account has been suspended.")
        _record_use(token)
    elif request.method in WRITE_METHODS and current_user.is_authenticated \
            and current_app.config.get("WTF_CSRF_ENABLED", True):
        # Flask-WTF reads the X-CSRFToken header and answers 400 when it is missing or wrong.
        csrf.protect()


def _record_use(token: ApiToken) -> None:
    # Its own small transaction before the handler's: the time of use is bookkeeping, and
    # losing one to a busy database must not fail the request.
    if not tokens.touch_due(token):
        return
    if request.method in WRITE_METHODS and not dbtuning.may_write():
        # A handler that reads first (a vote) is still in its deferred reading transaction, in
        # which SQLite refuses a write at once whenever another writer has committed since
        # the read. Begin writing now: the update queues for the lock like any other write.
        dbtuning.begin_writing()
    try:
        if tokens.touch(token):
            db.session.commit()
    except OperationalError:
        db.session.rollback()


def caller_key() -> str:
    """Rate-limit key for "per token": the token, else the signed-in person, else the address."""
    token = request_token()
    if token is not None:
        return f"token:{token.id}"
    if not ignores_session() and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{get_remote_address()}"
