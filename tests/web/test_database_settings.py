"""How each database is tuned for several worker processes (forum.dbtuning, forum.config)."""

import pytest
from sqlalchemy import text

from forum.extensions import db


@pytest.mark.sqlite_only("WAL, busy_timeout and BEGIN IMMEDIATE are SQLite's own")
def test_sqlite_lets_readers_work_beside_one_writer_that_others_wait_for(app):
    assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
    assert db.session.scalar(text("PRAGMA busy_timeout")) == 15000
    assert db.session.scalar(text("PRAGMA foreign_keys")) == 1


@pytest.mark.postgres_only("the SQLite pragmas must leave PostgreSQL connections alone")
def test_postgresql_keeps_read_committed(app):
    assert db.session.scalar(text("SHOW transaction_isolation")) == "read committed"


@pytest.mark.postgres_only("a restart or failover of the server closes pooled connections")
def test_pages_still_load_after_the_server_dropped_pooled_connections(app, client, make_idea):
    import psycopg

    idea_id = make_idea().id
    assert client.get(f"/ideas/{idea_id}").status_code == 200
    db.session.remove()
    admin = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        dropped = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert dropped >= 1
    assert client.get(f"/ideas/{idea_id}").status_code == 200
