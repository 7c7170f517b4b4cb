"""Two `flask forum deliver` processes on one outbox: a shipped idea with 1,000 voters, and each
voter gets exactly one email (real processes, real SMTP server on loopback, either database)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from forum.accounts import services as accounts
from forum.extensions import db
from forum.ideas import services
from tests.processes import forum_environment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VOTERS = 1000
DEADLINE_S = 240
SENT = re.compile(r"^(\d+) sent,", re.MULTILINE)


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "MAIL_URL": smtp_server.url}


def test_two_deliverers_send_each_voter_exactly_one_email(app, tmp_path, app_config, personas,
                                                         make_idea, smtp_server):
    author = personas["bob"]
    idea = make_idea("Export to Excel", author=author)
    voters = [accounts.register(email=f"voter{n}@example.com", name=f"Voter {n}", password=None)
              for n in range(VOTERS)]
    db.session.flush()
    for voter in voters:
        services.cast_vote(idea, voter)
    db.session.commit()
    expected = {v.email for v in voters} | {author.email}
    db.session.commit()  # end the test's transaction: on SQLite it would hold the write lock

    env = forum_environment(app_config, tmp_path)
    logs = [tmp_path / f"deliverer-{n}.log" for n in (1, 2)]
    deliverers = []
    for log in logs:
        with log.open("w") as out:
            deliverers.append(subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "forum", "deliver",
                 "--interval", "0.2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + DEADLINE_S
        # Both are polling the empty outbox before the news is queued, as in production.
        while not all("Delivering mail through" in log.read_text() for log in logs):
            _alive(deliverers, logs, deadline)
        change = services.change_status(idea, services.find_status("shipped"),
                                        personas["pam"], note="Out today.")
        db.session.commit()
        assert change.notified_count == len(expected)
        db.session.commit()
        while len(smtp_server.messages) < len(expected):
            _alive(deliverers, logs, deadline)
        time.sleep(1.0)  # anything sent twice would arrive now
    finally:
        for process in deliverers:
            process.send_signal(signal.SIGINT)
        for process in deliverers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    outputs = [log.read_text() for log in logs]
    received = Counter(m["To"] for m in smtp_server.messages)
    assert set(received) == expected, outputs
    assert [address for address, times in received.items() if times != 1] == []
    # Each process says how many it sent: both took part, and together they sent each once.
    sent = [sum(int(n) for n in SENT.findall(out)) for out in outputs]
    assert all(sent) and sum(sent) == len(expected), outputs


def _alive(processes: list[subprocess.Popen], logs: list[Path], deadline: float) -> None:
    for process, log in zip(processes, logs, strict=True):
        assert process.poll() is None, log.read_text()[-3000:]
    assert time.monotonic() < deadline, [log.read_text()[-3000:] for log in logs]
    time.sleep(0.1)
