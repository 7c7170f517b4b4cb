"""Configuration: defaults here, then ``instance/config.py``, then ``FORUM_*`` environment.

The names users set are the ones in CONTRACT.md (``FORUM_DATABASE_URL`` ...). Inside the app
they live without the prefix (``DATABASE_URL``) and are translated once into the keys the
extensions expect (``SQLALCHEMY_DATABASE_URI``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytz

DEFAULTS: dict[str, Any] = {
    "SITE_NAME": "Feedback",
    "BASE_URL": "http://127.0.0.1:5000",
    "DEFAULT_LOCALE": "en",
    "TIME_ZONE": "UTC",  # the site's zone: dates on pages and in emails are written in it
    "MAIL_FROM": "feedback@localhost",
    "MAIL_URL": None,  # None: a file outbox in instance/mail
    "DATABASE_URL": None,  # None: SQLite file in instance/
    "SEARCH_BACKEND": None,  # None: whoosh, or postgres when the database is PostgreSQL
    "SEARCH_INDEX_DIR": None,  # None: instance/search-index
    "SECRET_KEY": None,  # None: generated into instance/ (refused when ENV is production)
    "ENV": "development",
    "IDEAS_PER_PAGE": 20,
    # Signed-out visitors' pages are kept until the database changes (forum.pagecache); on
    # PostgreSQL another process's change shows after at most this many seconds.
    "PAGE_CACHE_SECONDS": 5,
    # Mail delivery (see forum.notifications.delivery for the guarantee these serve).
    "MAIL_DELIVER_INTERVAL": 2,        # seconds between outbox polls of `flask forum deliver`
    "MAIL_LEASE_SECONDS": 300,         # how long a claimed message belongs to one deliverer
    "MAIL_RETRY_BASE_SECONDS": 30,     # first back-off; doubles each attempt
    "MAIL_RETRY_MAX_SECONDS": 6 * 3600,
    "MAIL_MAX_ATTEMPTS": 12,           # about a day and a half of retries, then "failed"
    # Webhooks (see forum.webhooks.delivery); delivered by the same `flask forum deliver`.
    "WEBHOOK_TIMEOUT_SECONDS": 10,     # connect + answer; a slower receiver counts as a failure
    "WEBHOOK_LEASE_SECONDS": 60,       # longer than any attempt can last (timeout + margin)
    "WEBHOOK_RETRY_BASE_SECONDS": 30,  # first back-off; doubles each attempt
    "WEBHOOK_RETRY_MAX_SECONDS": 6 * 3600,
    "WEBHOOK_MAX_ATTEMPTS": 10,        # about a day of retries, then "failed" (redeliverable)
    "WEBHOOK_TOLERANCE_SECONDS": 300,  # incoming hooks: how old a signed request may be
    "DIGEST_HOUR": 8,                  # UTC hour at which daily digests go out
    "PASSWORD_RESET_INTERVAL": 60,     # at most one reset email per person per this many seconds
    "PASSWORD_RESET_RATE_LIMIT": "10 per hour",  # per client address, on the request form
    # werkzeug's scrypt defaults (N=2**15); the test suite lowers the cost to stay fast.
    "PASSWORD_HASH_METHOD": "scrypt",
    # 1 MiB is far above any idea or comment and keeps hostile uploads cheap to refuse.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # a form left open overnight must still post
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # memory:// counts per process; several workers or hosts share redis://host:6379/0.
    "RATELIMIT_STORAGE_URI": "memory://",
    # Load balancers in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
    "TRUSTED_PROXIES": 0,
    "RATELIMIT_HEADERS_ENABLED": True,
    # API writes (flask-limiter syntax); reads are not limited.
    "API_WRITE_LIMIT_PER_TOKEN": "120 per minute",
    "API_WRITE_LIMIT_PER_ADDRESS": "300 per minute",
    # Per client address. Generous for people, tight enough that a script cannot flood the
    # board; FORUM_SIGNUP_RATE_LIMIT / FORUM_POST_RATE_LIMIT change them.
    "SIGNUP_RATE_LIMIT": "10 per hour",
    "POST_RATE_LIMIT": "30 per hour",
    # Password guessing: failed sign-ins are counted per client address and per account (so
    # that spreading guesses over many addresses does not help). Only failures count, so a
    # household or office behind one address is not locked out by its own successful sign-ins.
    "SIGNIN_LIMIT_PER_ADDRESS": "30 per 10 minutes",
    "SIGNIN_LIMIT_PER_ACCOUNT": "10 per 10 minutes",
    # Sign-up says "an account with that email already exists"; counting refused sign-ups bounds
    # how fast anyone can use that answer to test which addresses have accounts, while a team
    # signing up together from one office is never stopped.
    "SIGNUP_LIMIT_PER_ADDRESS": "20 per hour",
}

LOCALES = ("en", "fr", "it")


def load(app, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in the documented order and derive the extension settings."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FORUM", loads=_loads)
    if overrides:
        app.config.from_mapping(overrides)
    _derive(app)


def _loads(value: str) -> Any:
    # Only numbers and booleans are parsed; everything else stays a string so that a
    # password or URL that happens to look like JSON is never mangled.
    lowered = value.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return int(value)
    except ValueError:
        return value


def _derive(app) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    cfg = app.config

    url = cfg["DATABASE_URL"] or f"sqlite:///{instance / 'forum.db'}"
    cfg["DATABASE_URL"] = url
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # Several gunicorn workers share the file: wait for the writer instead of failing,
        # in the queue of forum.dbtuning.Connection.
        from forum.dbtuning import Connection

        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 15,
                                                             "factory": Connection}}
    elif url.startswith("postgresql"):
        # A pooled connection may have been closed by a restart or failover of the server:
        # test it before use rather than fail the request that draws it.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True,
                                            **cfg["SQLALCHEMY_ENGINE_OPTIONS"]}
    if not cfg["SEARCH_BACKEND"]:
        cfg["SEARCH_BACKEND"] = "postgres" if url.startswith("postgresql") else "whoosh"
    cfg["SEARCH_INDEX_DIR"] = cfg["SEARCH_INDEX_DIR"] or str(instance / "search-index")
    cfg["MAIL_URL"] = cfg["MAIL_URL"] or f"file://{instance / 'mail'}"
    if cfg["DEFAULT_LOCALE"] not in LOCALES:
        raise RuntimeError(f"FORUM_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}")
    cfg["BABEL_DEFAULT_LOCALE"] = cfg["DEFAULT_LOCALE"]
    if cfg["TIME_ZONE"] not in pytz.all_timezones_set:
        raise RuntimeError(f"FORUM_TIME_ZONE {cfg['TIME_ZONE']!r} is not a time zone name "
                           "such as Europe/Paris")
    cfg["BABEL_DEFAULT_TIMEZONE"] = cfg["TIME_ZONE"]
    cfg["SECRET_KEY"] = cfg["SECRET_KEY"] or _instance_secret(app, instance)
    cfg["SESSION_COOKIE_SECURE"] = cfg["BASE_URL"].startswith("https://")
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    cfg["PREFERRED_URL_SCHEME"] = "https" if cfg["SESSION_COOKIE_SECURE"] else "http"


def _instance_secret(app, instance: Path) -> str:
    if app.config["ENV"] == "production":
        raise RuntimeError("FORUM_SECRET_KEY must be set in production (FORUM_ENV=production).")
    path = instance / "secret_key"
    if not path.exists():
        # Written whole to a private temporary file, then linked into place: a worker that
        # loses the race to create it reads the winner's complete key, never a partial one.
        tmp = instance / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
