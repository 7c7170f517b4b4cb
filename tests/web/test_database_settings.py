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


def _writers_lock_file(app) -> str:
    return db.engine.url.database + "-writers"


@pytest.mark.sqlite_only("the writers' queue is SQLite's (PostgreSQL locks rows)")
def test_writers_queue_on_a_file_lock_and_go_the_moment_it_is_free(app, make_idea):
    import fcntl
    import threading

    from forum.ideas.models import Idea

    idea_id = make_idea(title="Queue me").id
    db.session.commit()
    written = threading.Event()

    def write() -> None:
        with app.app_context():
            db.session.get(Idea, idea_id).title = "Queued and written"
            db.session.commit()
            written.set()
            db.session.remove()

    # Another writer (a worker process would do the same) is in the queue's lock. SQLite's own
    # lock is free, so without the queue the write below would go through at once.
    with open(_writers_lock_file(app), "a+") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        thread = threading.Thread(target=write)
        thread.start()
        assert not written.wait(0.5)
        fcntl.flock(other, fcntl.LOCK_UN)
        assert written.wait(5)
    thread.join(5)
    db.session.expire_all()
    assert db.session.get(Idea, idea_id).title == "Queued and written"


@pytest.mark.sqlite_only("the writers' queue is SQLite's (PostgreSQL locks rows)")
def test_the_queue_is_let_go_when_a_write_commits_or_rolls_back(app, make_idea):
    import fcntl

    from forum.ideas.models import Idea

    def free() -> bool:
        with open(_writers_lock_file(app), "a+") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(probe, fcntl.LOCK_UN)
            return True

    idea = make_idea(title="Held while written")
    db.session.commit()
    assert free()
    idea.title = "Changed"
    db.session.flush()  # the write transaction has begun: this connection is in the queue
    assert not free()
    db.session.commit()
    assert free()
    db.session.get(Idea, idea.id).title = "Changed again, then thought better of"
    db.session.flush()
    assert not free()
    db.session.rollback()
    assert free()
    assert db.session.get(Idea, idea.id).title == "Changed"


@pytest.mark.sqlite_only("the writers' queue is SQLite's (PostgreSQL locks rows)")
def test_a_second_write_connection_of_the_same_thread_does_not_wait_on_itself(app, make_idea):
    import faulthandler

    from sqlalchemy.exc import OperationalError

    idea = make_idea(title="First writer")
    with db.engine.connect() as other:
        other.exec_driver_sql("PRAGMA busy_timeout=200")
        other.commit()
        idea.title = "First writer, writing"
        db.session.flush()  # this thread is in the queue, and holds SQLite's write lock
        # As code that opens its own connection inside a request's transaction would: waiting
        # in the queue would wait forever on this thread's own place in it. SQLite's busy
        # timeout answers instead, as before the queue existed. (Should it hang, the watchdog
        # ends the run.)
        faulthandler.dump_traceback_later(60, exit=True)
        try:
            with pytest.raises(OperationalError, match="database is locked"):
                other.execute(text("UPDATE ideas SET title = 'Second' WHERE id > 0"))
        finally:
            faulthandler.cancel_dump_traceback_later()
    db.session.rollback()


@pytest.mark.sqlite_only("the writers' queue is SQLite's (PostgreSQL locks rows)")
def test_writes_go_on_when_the_queue_file_cannot_be_opened(app, make_idea):
    from pathlib import Path

    from forum.ideas.models import Idea

    db.session.remove()
    db.engine.dispose()  # fresh connections, which open the queue's file when they first write
    Path(_writers_lock_file(app)).unlink(missing_ok=True)
    Path(_writers_lock_file(app)).mkdir()  # cannot be opened as a file: no queue, SQLite waits
    idea = make_idea(title="Written without the queue")
    idea.title = "Changed without the queue"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).title == "Changed without the queue"
