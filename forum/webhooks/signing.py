"""The signature of webhook requests, both ways: pure functions, no app needed.

``X-Forum-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is HMAC-SHA256, keyed with the
endpoint's secret, over ``"<t>." + raw body``. Signing the timestamp with the body lets a
receiver refuse a captured request replayed later (outside its tolerance window) without
keeping a list of what it has seen. Several ``v1=`` values may appear (a future rotation with
two live secrets); one valid is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Forum-Signature"
EVENT_HEADER = "X-Forum-Event"
DELIVERY_HEADER = "X-Forum-Delivery"


class BadSignature(Exception):
    """Missing, malformed, wrong, or too old."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the X-Forum-Signature header."""
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


def verify(secret: str, header: str | None, body: bytes, *, now: int, tolerance: int) -> int:
    """Check a signature header; returns its timestamp or raises BadSignature."""
    if not header:
        raise BadSignature("the request carries no X-Forum-Signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise BadSignature("the X-Forum-Signature header is not t=<unix time>,v1=<hex>")
    if abs(now - timestamp) > tolerance:
        raise BadSignature(f"the signature's time is more than {tolerance} seconds away from "
                           "ours (a replay, or a clock that is off)")
    expected = digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise BadSignature("the signature does not match the body and the hook's secret")
    return timestamp


def verify_github(secret: str, header: str | None, body: bytes) -> None:
    """GitHub's own scheme: ``X-Hub-Signature-256: sha256=<hex>`` over the body."""
    if not header or not header.startswith("sha256="):
        raise BadSignature("the request carries no X-Hub-Signature-256 header")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, header.removeprefix("sha256=")):
        raise BadSignature("the signature does not match the body and the hook's secret")
