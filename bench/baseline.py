"""The yardsticks every figure is divided by, served by the same gunicorn settings as the forum.

- ``read_app``: bare Flask rendering a 20-item Jinja page from static data (no database, no
  session, no translations): the fastest a Flask page of that size can be on this machine.
- ``write_app``: bare Flask inserting one row into SQLite in WAL mode per request, with the
  forum's pragmas and ``BEGIN IMMEDIATE``: the fastest a Flask write can be here.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, g, jsonify, render_template

_NOW = datetime(2026, 11, 22, tzinfo=UTC)
ITEMS = [
    {
        "id": n,
        "title": f"Idea number {n}: export the task list to a spreadsheet",
        "excerpt": "We report to our clients every month and need the tasks of a project in a "
                   "spreadsheet, with assignees and due dates.",
        "votes": 1000 - n * 7,
        "comments": n % 9,
        "status": "Open",
        "board": "General",
        "created": (_NOW - timedelta(days=n)).strftime("%d %b %Y"),
    }
    for n in range(1, 21)
]

read_app = Flask(__name__, template_folder="templates")


@read_app.get("/")
def page():
    return render_template("baseline.html", items=ITEMS)


write_app = Flask(__name__)
DATABASE = Path(os.environ.get("BENCH_WRITE_DB", "/tmp/bench-write.db"))


def _connection() -> sqlite3.Connection:
    if "db" not in g:
        connection = sqlite3.connect(DATABASE, timeout=15, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=15000"):
            connection.execute(f"PRAGMA {pragma}")
        g.db = connection
    return g.db


@write_app.teardown_appcontext
def _close(_error) -> None:
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


@write_app.post("/write")
def write():
    connection = _connection()
    connection.execute("BEGIN IMMEDIATE")
    cursor = connection.execute("INSERT INTO rows (created_at) VALUES (?)",
                                (datetime.now(UTC).isoformat(),))
    connection.execute("COMMIT")
    return jsonify({"id": cursor.lastrowid})


def create_write_table(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, "
                       "created_at TEXT NOT NULL)")
    connection.commit()
    connection.close()
