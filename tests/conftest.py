"""Fixtures in the style of the Flask tutorial: ``app``, ``client``, ``runner``, ``auth``,
and factories that return callables. The schema always comes from the real migrations."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient

from forum import create_app
from forum.accounts import services as accounts
from forum.accounts.models import Role, User
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea
from forum.search import service as search

# The database under test (fixtures migrated_db, database_url) and the markers bound to one
# database: tests/databases.py. Templates and URL rules compiled once per run: tests/compiled.py.
pytest_plugins = ["tests.databases", "tests.compiled"]

PASSWORD = "correct horse battery"


def require_all() -> bool:
    """FORUM_REQUIRE_ALL=1 (CI) turns every 'system part missing' skip into a failure."""
    return os.environ.get("FORUM_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    if require_all():
        pytest.fail(f"{reason} (FORUM_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


def config_for(folder: Path, database_url: str) -> dict:
    """The settings of a test's app: its instance folder and index in ``folder``."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": database_url,
        # No SEARCH_BACKEND: the database chooses, as on a real site (whoosh on SQLite,
        # postgres on PostgreSQL).
        "SEARCH_INDEX_DIR": str(folder / "search-index"),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "forum.test",
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }


@pytest.fixture
def app_config(tmp_path, database_url) -> dict:
    return config_for(tmp_path, database_url)


class IsolatedClient(FlaskClient):
    """Each request runs as in production: its own app context, ``g`` and database session.

    The test body keeps an app context of its own (for factories and assertions); its
    transaction is committed before each request, so the request can take the write lock and
    the test reads fresh rows afterwards.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        # Buffered, so that streamed bodies are read (and the request's context closed) inside
        # the request's own context rather than later in the test's.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
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


# --- mail: a real SMTP server on loopback -------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    """aiosmtpd on a free loopback port. ``refuse`` answers 421 to DATA (a server that is up
    but not accepting); ``stop``/``start`` take it off and back on the network."""

    def __init__(self):
        self.port = free_port()
        self.messages: list = []
        self.refuse = False
        self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        from email import message_from_bytes
        from email.policy import default

        if self.refuse:
            return "421 4.3.2 Service not available, try again later"
        message = message_from_bytes(envelope.content, policy=default)
        message.envelope_to = list(envelope.rcpt_tos)
        message.raw = envelope.original_content  # the bytes as they came over the wire
        self.messages.append(message)
        return "250 2.0.0 OK"

    def start(self) -> SMTPServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


def deliver(app, *, clock=None, sender=None):
    """One pass of the deliverer with the configured sender (what `flask forum deliver
    --once` does)."""
    from forum.db import utcnow
    from forum.notifications import delivery, senders

    sender = sender or senders.from_url(app.config["MAIL_URL"])
    return delivery.deliver_due(sender, clock=clock or utcnow)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()
