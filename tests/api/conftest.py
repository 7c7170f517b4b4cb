"""API fixtures: bearer headers for the personas, and a caller that speaks JSON."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import g
from flask.testing import FlaskClient

from forum.accounts import tokens
from forum.accounts.models import User
from forum.extensions import db


class FreshClient(FlaskClient):
    """Each request starts with an empty ``g``, as in production. The ``app`` fixture keeps one
    application context open for the whole test, and Flask reuses it for every request, so the
    caller identified by one request (Flask-Login's ``g._login_user``, our ``g.api_token``)
    would otherwise answer for the next request, whatever token that one carries, and
    Flask-WTF's cached ``g.csrf_token`` would never reach a fresh session."""

    def open(self, *args, **kwargs):
        for name in ("_login_user", "api_token", "csrf_token"):
            g.pop(name, None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()


@pytest.fixture
def bearer(app) -> Callable[[User], dict[str, str]]:
    """Headers carrying a fresh token of this person."""

    def headers(user: User) -> dict[str, str]:
        secret = tokens.create_token(user, "tests").secret
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return headers


@pytest.fixture
def as_(personas, bearer) -> dict[str, dict[str, str]]:
    """``as_["pam"]``: Pam's bearer headers (and anna, bob, fred, ada)."""
    return {name: bearer(user) for name, user in personas.items()}
