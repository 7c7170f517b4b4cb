"""Helpers for tests that run the forum in other processes (gunicorn workers, deliverers)
against the test's own database."""

from __future__ import annotations

import os
import socket
from pathlib import Path

# app_config keys that only make sense inside the test process.
IN_PROCESS_ONLY = {"TESTING", "SERVER_NAME", "WTF_CSRF_ENABLED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_flags() -> list[str]:
    """Recent gunicorn opens a control socket (under $HOME) by default; older ones have no
    such socket and no such flag."""
    from gunicorn.config import KNOWN_SETTINGS

    known = {flag for setting in KNOWN_SETTINGS for flag in (setting.cli or [])}
    return ["--no-control-socket"] if "--no-control-socket" in known else []


def forum_environment(app_config: dict, home: Path, **overrides: str) -> dict[str, str]:
    """The environment of a `flask --app wsgi …` or `gunicorn wsgi:app` child process that
    sees what the test sees: the same database, instance folder and settings, as FORUM_*
    variables (the way an operator configures it). HOME points at ``home`` so that nothing
    lands in the real one."""
    env = {**os.environ, "HOME": str(home), "FORUM_SECRET_KEY": "test-subprocess-secret"}
    for key, value in app_config.items():
        if key not in IN_PROCESS_ONLY and isinstance(value, str | int | bool):
            env[f"FORUM_{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env.update(overrides)
    return env
