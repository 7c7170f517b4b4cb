"""Faults: the real app under gunicorn (several workers, SQLite in a temporary folder) while
clients post ideas and vote; workers and then the master are killed with SIGKILL in the middle,
the server is started again, and afterwards every request that got a success answer is in the
database, nothing is half-written (`flask forum check` exits 0) and the app serves again."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections import Counter

import pytest

from forum import create_app
from forum.accounts import services as accounts
from forum.extensions import db
from forum.ideas.models import Idea, Subscription, Vote
from tests.processes import free_port
from tests.reliability.conftest import BIN, CLIENTS, ROOT, Client, Server

pytestmark = pytest.mark.slow


def test_killed_workers_and_master_lose_nothing_acknowledged(site):
    env, config, shared, folder = site
    server = Server(env, folder / "gunicorn.log", free_port())
    clients = [Client(server.port, f"client{n}@example.com") for n in range(CLIENTS)]
    stop = threading.Event()
    faults = Counter()
    threads = [threading.Thread(target=c.run, args=(stop, shared, n), daemon=True)
               for n, c in enumerate(clients)]
    try:
        server.start()
        for thread in threads:
            thread.start()
        for _ in range(3):
            time.sleep(1.5)
            server.kill_worker()
            faults["worker SIGKILL"] += 1
        time.sleep(1.5)
        server.kill_master()
        faults["master SIGKILL"] += 1
        time.sleep(0.5)  # clients meet a closed port
        server.start()
        time.sleep(1.5)
        server.kill_worker()
        faults["worker SIGKILL"] += 1
        time.sleep(1.5)
        # Still serving after all that: acknowledged operations keep coming.
        acked_before = sum(op.acked for c in clients for op in c.ops)
        deadline = time.monotonic() + 20
        while sum(op.acked for c in clients for op in c.ops) < acked_before + 20:
            assert time.monotonic() < deadline, "the restarted server does not serve"
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.stop()

    ops = [op for c in clients for op in c.ops]
    statuses = sum((c.statuses for c in clients), Counter())
    summary = (f"{len(ops)} operations ({sum(op.acked for op in ops)} acknowledged), "
               f"faults {dict(faults)}, answers {dict(statuses)}, "
               f"{sum(c.refused for c in clients)} connection(s) refused while down")
    print(summary)
    assert not any(status >= 500 for status in statuses), summary
    assert sum(op.acked for op in ops) >= 50, summary
    assert sum(not op.acked for op in ops) >= 1, "no request was cut: the faults hit nothing"

    # Nothing half-written: the file is sound and every count equals its rows.
    connection = sqlite3.connect(folder / "forum.db")
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    def forum_check(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", "forum", "check", *flags],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    # The search index is written after each commit, so a worker killed between the two leaves
    # it behind the database (a cache, never the record). Only index lines may appear, and
    # `check --fix` must bring it level.
    check = forum_check()
    problems = [line for line in check.stdout.splitlines() if line.startswith(("idea ", "search"))]
    assert all("search index" in line for line in problems), check.stdout + check.stderr
    if check.returncode != 0:
        assert forum_check("--fix").returncode == 0
    check = forum_check()
    assert check.returncode == 0, check.stdout + check.stderr

    app = create_app(config)
    with app.app_context():
        # Every acknowledged idea is there, whole: its text, its author's vote and follow.
        unanswered_but_written = 0
        for client in clients:
            for op in client.ops:
                idea = db.session.scalar(db.select(Idea).where(Idea.title == op.target)) \
                    if op.kind == "idea" else None
                if op.kind == "idea" and op.acked:
                    assert idea is not None and idea.id == op.idea_id, op
                    assert idea.body == f"Body of {op.target}."
                unanswered_but_written += idea is not None and not op.acked
                if idea is not None:  # acknowledged or not, never half-written
                    assert db.session.scalar(db.select(Vote).where(
                        Vote.idea_id == idea.id, Vote.user_id == idea.author_id)), op
                    assert db.session.scalar(db.select(Subscription).where(
                        Subscription.idea_id == idea.id,
                        Subscription.user_id == idea.author_id)), op
        # Every person's vote on each shared idea is what their last acknowledged request
        # said, or what a later unanswered request may have done.
        for client in clients:
            user = accounts.find_by_email(client.email)
            for idea_id in shared:
                votes = [op for op in client.ops if op.kind != "idea" and op.target == idea_id]
                last = max((i for i, op in enumerate(votes) if op.acked), default=-1)
                allowed = {votes[last].kind == "vote"} if last >= 0 else {
                    user.id == db.session.get(Idea, idea_id).author_id}
                allowed |= {op.kind == "vote" for op in votes[last + 1:]}
                has_vote = db.session.scalar(db.select(Vote.id).where(
                    Vote.idea_id == idea_id, Vote.user_id == user.id)) is not None
                assert has_vote in allowed, (client.email, idea_id, votes[last:])
        print(f"{unanswered_but_written} idea(s) committed whose answer was cut off")
        db.session.remove()
        db.engine.dispose()
