"""Signed tokens for links that work without signing in (unsubscribe, satisfaction answers,
password reset, address confirmation). Each purpose has its own salt, so a token made for one
can never be replayed as another."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from forum.errors import DomainError


class InvalidLink(DomainError):
    status_code = 400
    code = "bad_request"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"forum-{purpose}")


def make(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, *, max_age: int | None = None) -> dict[str, Any]:
    broken = _l("This link is not valid. Copy the whole link from the email.")
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidLink(_l("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise InvalidLink(broken) from None
    if not isinstance(payload, dict):
        raise InvalidLink(broken)
    return payload
