"""API fixtures: bearer headers for the personas, and a caller that speaks JSON."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forum.accounts import tokens
from forum.accounts.models import User
from forum.extensions import db


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
