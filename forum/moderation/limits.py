"""Rate limits for writing, read from configuration at request time so that a site (or a
test) can tighten or loosen them without code. Enforced by Flask-Limiter per client address."""

from __future__ import annotations

from flask import current_app


def signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def post_limit() -> str:
    return current_app.config["POST_RATE_LIMIT"]
