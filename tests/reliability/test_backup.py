"""`flask forum backup PATH` and `flask forum restore PATH`: a consistent copy taken while the
site serves, and a round trip that brings back exactly what was saved."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
import time

import pytest

from forum import create_app
from forum.extensions import db
from forum.ideas.models import Idea
from tests.hostile import fingerprint
from tests.processes import free_port
from tests.reliability.conftest import BIN, CLIENTS, ROOT, Client, Server


@pytest.mark.sqlite_only("backup and restore copy the SQLite file; PostgreSQL sites use pg_dump")
def test_backup_then_restore_brings_back_exactly_what_was_saved(app, runner, make_idea,
                                                                  tmp_path, no_drift):
    make_idea("Saved idea")
    saved = fingerprint()
    target = tmp_path / "backups" / "forum-backup.db"
    target.parent.mkdir()
    result = runner.invoke(args=["forum", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "1 ideas" in result.output and list(target.parent.iterdir()) == [target]

    make_idea("Posted after the backup")
    assert fingerprint() != saved
    db.session.remove()
    result = runner.invoke(args=["forum", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert fingerprint() == saved


@pytest.mark.sqlite_only("backup and restore copy the SQLite file; PostgreSQL sites use pg_dump")
@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100, "sqlite-foreign"])
def test_restore_refuses_what_is_not_a_forum_backup(app, runner, make_idea, tmp_path, content):
    make_idea()
    before = fingerprint()
    source = tmp_path / "suspicious.db"
    if content == "sqlite-foreign":
        with sqlite3.connect(source) as other:
            other.execute("CREATE TABLE ideas (id INTEGER)")
        other.close()
    else:
        source.write_bytes(content)
    db.session.remove()
    result = runner.invoke(args=["forum", "restore", str(source), "--yes"])
    assert result.exit_code == 1 and "Error:" in result.output
    assert fingerprint() == before


@pytest.mark.sqlite_only("backup and restore copy the SQLite file; PostgreSQL sites use pg_dump")
def test_restore_asks_before_replacing_everything(app, runner, make_idea, tmp_path):
    target = tmp_path / "b.db"
    assert runner.invoke(args=["forum", "backup", str(target)]).exit_code == 0
    make_idea()
    before = fingerprint()
    result = runner.invoke(args=["forum", "restore", str(target)], input="n\n")
    assert result.exit_code == 1 and fingerprint() == before


def test_postgresql_sites_are_pointed_to_pg_dump(app_config, tmp_path):
    app = create_app({**app_config,
                      "DATABASE_URL": "postgresql+psycopg://forum@127.0.0.1:1/forum"})
    for command in (["forum", "backup", str(tmp_path / "x")],
                    ["forum", "restore", str(tmp_path / "x"), "--yes"]):
        (tmp_path / "x").touch()
        result = app.test_cli_runner().invoke(args=command)
        assert result.exit_code == 1 and "pg_dump" in result.output, result.output


@pytest.mark.slow
def test_backups_taken_while_serving_are_consistent_and_restore_live(site):
    env, config, shared, folder = site
    server = Server(env, folder / "gunicorn.log", free_port())
    clients = [Client(server.port, f"client{n}@example.com") for n in range(CLIENTS)]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop, shared, n), daemon=True)
               for n, c in enumerate(clients)]
    flask = [str(BIN / "flask"), "--app", "wsgi", "forum"]
    backups = [folder / f"backup-{n}.db" for n in range(2)]
    try:
        server.start()
        for thread in threads:
            thread.start()
        for target in backups:
            time.sleep(1.5)
            done = subprocess.run([*flask, "backup", str(target)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        acked = sum(op.acked for c in clients for op in c.ops)
        assert acked >= 20 and not any(s >= 500 for c in clients for s in c.statuses)

        # Each copy is a consistent snapshot: sound, and every count equals its rows.
        for target in backups:
            probe = folder / f"probe-{target.name}"
            shutil.copy(target, probe)
            # A backup holds the database only: its search index is rebuilt from it.
            probe_env = {**env, "FORUM_DATABASE_URL": f"sqlite:///{probe}",
                         "FORUM_SEARCH_INDEX_DIR": str(folder / f"index-{target.name}")}
            for command in ("reindex", "check"):
                done = subprocess.run([*flask, command], cwd=ROOT, capture_output=True,
                                      text=True, env=probe_env, timeout=120)
                assert done.returncode == 0, done.stdout + done.stderr

        # Restore the first copy under the running server, which then serves exactly it.
        with sqlite3.connect(backups[0]) as saved:
            titles = {row[0] for row in saved.execute("SELECT title FROM ideas")}
        saved.close()
        done = subprocess.run([*flask, "restore", str(backups[0]), "--yes"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        later = {op.target for c in clients for op in c.ops
                 if op.kind == "idea" and op.acked and op.target not in titles}
        assert later, "nothing was posted after the first backup"
        visitor = Client(server.port, "client0@example.com")
        for _ in range(6):  # several requests, so that every worker answers at least once
            status, _headers, page = visitor.request("GET", "/?sort=new")
            assert status == 200 and not any(title in page for title in later)
        live = create_app(config)
        with live.app_context():
            assert set(db.session.scalars(db.select(Idea.title))) == titles
            db.session.remove()
            db.engine.dispose()
        done = subprocess.run([*flask, "check"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        stop.set()
        server.stop()
