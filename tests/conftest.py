"""Fixtures in the style of the Flask tutorial: ``app``, ``client``, ``runner``, ``auth``,
and factories that return callables. The schema always comes from the real migrations."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest

from forum import create_app
from forum.accounts import services as accounts
from forum.accounts.models import Role, User
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea
from forum.search import service as search

PASSWORD = "correct horse battery"


def require_all() -> bool:
    """FORUM_REQUIRE_ALL=1 (CI) turns every 'system part missing' skip into a failure."""
    return os.environ.get("FORUM_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    if require_all():
        pytest.fail(f"{reason} (FORUM_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory) -> str:
    """An SQLite file upgraded once with `flask db upgrade`'s code; each test gets a copy."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("template")
    path = folder / "forum.db"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder),
                      "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return str(path)


@pytest.fixture
def app_config(tmp_path, migrated_db) -> dict:
    database = tmp_path / "forum.db"
    shutil.copy(migrated_db, database)
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{database}",
        "SEARCH_INDEX_DIR": str(tmp_path / "search-index"),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "forum.test",
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    search.close(app)  # the index stays open for the life of an app; release its files


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, role: Role = Role.CUSTOMER, email: str | None = None,
             password: str | None = PASSWORD) -> User:
        n = next(counter)
        name = name or f"Person {n}"
        email = email or f"{name.lower().replace(' ', '.')}.{n}@example.com"
        user = accounts.register(email=email, name=name, password=password, role=role)
        db.session.commit()
        return user

    return make


@pytest.fixture
def general(app) -> Board:
    return db.session.scalar(db.select(Board).where(Board.slug == "general"))


@pytest.fixture
def make_idea(app, make_user, general) -> Callable[..., Idea]:
    def make(title: str = "Dark mode for the dashboard", body: str = "It is too bright at night.",
             *, author: User | None = None, board: Board | None = None) -> Idea:
        idea = ideas.submit_idea(author or make_user(), title=title, body=body,
                                 board=board or general)
        db.session.commit()
        return idea

    return make


@pytest.fixture
def personas(make_user) -> dict[str, User]:
    """Anna and Bob are customers, Pam is a product manager, Ada the admin.
    Fred is a customer too, and our job is to stop Fred."""
    return {
        "anna": make_user("Anna", email="anna@example.com"),
        "bob": make_user("Bob", email="bob@example.com"),
        "fred": make_user("Fred", email="fred@example.com"),
        "pam": make_user("Pam", email="pam@example.com", role=Role.STAFF),
        "ada": make_user("Ada", email="ada@example.com", role=Role.ADMIN),
    }


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str = "anna@example.com", password: str = PASSWORD):
        return self._client.post("/signin", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/signout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def no_drift(app):
    """Use in tests that change data: every stored count must still match its rows."""
    yield
    from forum import checks

    db.session.rollback()
    assert checks.run() == []
