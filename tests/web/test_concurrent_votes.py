"""Votes from many people at once, through several gunicorn worker processes, on whichever
database the suite runs on: no lost update, no duplicate vote, no error page."""

from __future__ import annotations

import http.cookiejar
import json
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from forum.extensions import db
from forum.ideas.models import Idea, Vote
from tests.conftest import PASSWORD
from tests.processes import forum_environment, free_port, gunicorn_flags

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
SOLO_CLIENTS = 40  # one person each, voting and unvoting at random
PAIRED_PEOPLE = 5  # two browser tabs each, both voting on everything at once
ACTIONS = 10
REQUEST_TIMEOUT = 60
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Gunicorn:
    """The production entry point (``gunicorn wsgi:app``) with several worker processes."""

    def __init__(self, app_config: dict, folder: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        # CSRF stays on, as in production (the clients send the token like app.js does). The
        # rate limits stay off as in every test: all clients come from 127.0.0.1.
        env = forum_environment(app_config, folder, FORUM_BASE_URL=self.url)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind",
                 f"127.0.0.1:{self.port}", "--timeout", str(REQUEST_TIMEOUT),
                 "--graceful-timeout", "5", *gunicorn_flags(), "wsgi:app"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60  # four workers importing the app on a busy machine
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class Browser:
    """One browser tab: its own cookies, signs in with the real form, votes like app.js does."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""
        self.statuses: list[int] = []

    def _open(self, path: str, data: dict | None = None, headers: dict | None = None
              ) -> tuple[int, str]:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        self.statuses.append(status)
        return status, text

    def _refresh_token(self, text: str) -> None:
        match = CSRF.search(text)
        assert match, "no CSRF token on the page"
        self.token = match.group(1)

    def sign_in(self, email: str, landing: str) -> None:
        _, text = self._open("/signin")
        self._refresh_token(text)
        self._open("/signin", {"csrf_token": self.token, "email": email, "password": PASSWORD})
        # Signing in starts a fresh session, with a fresh CSRF token.
        _, text = self._open(landing)
        self._refresh_token(text)

    def vote(self, idea_id: int, *, up: bool) -> dict:
        status, text = self._open(f"/ideas/{idea_id}/{'vote' if up else 'unvote'}", {},
                                  {"Accept": "application/json", "X-CSRFToken": self.token})
        return json.loads(text) if status == 200 else {"status": status, "body": text[:500]}


def test_concurrent_votes_from_several_processes(app, app_config, tmp_path, make_user,
                                                 make_idea, runner):
    author = make_user("Author")
    ids = [make_idea(f"Idea number {n}", author=author).id for n in range(3)]
    # (id, email): plain values the client threads can share without a database session.
    solo = [(u.id, u.email) for u in (make_user(f"Solo {n}") for n in range(SOLO_CLIENTS))]
    paired = [(u.id, u.email) for u in (make_user(f"Paired {n}") for n in range(PAIRED_PEOPLE))]
    tabs = [person for person in paired for _tab in range(2)]
    expected: dict[int, set[int]] = {i: {author.id} for i in ids}
    db.session.close()

    server = Gunicorn(app_config, tmp_path)
    start = threading.Barrier(len(solo) + len(tabs), timeout=120)
    expected_lock = threading.Lock()
    problems: list[str] = []

    def solo_client(person: tuple[int, str]) -> list[int]:
        person_id, email = person
        browser = Browser(server.url)
        browser.sign_in(email, f"/ideas/{ids[0]}")
        rng = random.Random(person_id)
        voted = set()
        start.wait()
        for _ in range(ACTIONS):
            idea_id, up = rng.choice(ids), rng.random() < 0.6
            answer = browser.vote(idea_id, up=up)
            if answer.get("voted") is not up:
                problems.append(f"{email} {'vote' if up else 'unvote'} {idea_id}: {answer}")
            (voted.add if up else voted.discard)(idea_id)
        with expected_lock:
            for idea_id in voted:
                expected[idea_id].add(person_id)
        return browser.statuses

    def tab_client(person: tuple[int, str]) -> list[int]:
        _person_id, email = person
        browser = Browser(server.url)
        browser.sign_in(email, f"/ideas/{ids[0]}")
        start.wait()
        for idea_id in ids * 2:
            answer = browser.vote(idea_id, up=True)
            if answer.get("voted") is not True:
                problems.append(f"{email} tab vote {idea_id}: {answer}")
        return browser.statuses

    began = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=len(solo) + len(tabs)) as pool:
            futures = [pool.submit(solo_client, p) for p in solo]
            futures += [pool.submit(tab_client, p) for p in tabs]
            statuses = [s for f in futures for s in f.result(timeout=240)]
    finally:
        server.stop()
    elapsed = time.monotonic() - began

    assert problems == []
    assert sorted(set(statuses)) == [200], f"answers other than 200: {statuses}"
    assert "Traceback" not in server.log.read_text()
    for person_id, _email in paired:
        for idea_id in ids:
            expected[idea_id].add(person_id)
    db.session.expire_all()
    for idea_id in ids:
        voters = set(db.session.scalars(db.select(Vote.user_id).where(Vote.idea_id == idea_id)))
        rows = db.session.scalar(db.select(db.func.count()).where(Vote.idea_id == idea_id))
        assert rows == len(voters), f"idea {idea_id}: duplicate vote rows"
        assert voters == expected[idea_id]
        assert db.session.get(Idea, idea_id).vote_count == len(voters)
    db.session.rollback()
    result = runner.invoke(args=["forum", "check"])
    assert result.exit_code == 0, result.output
    assert "No drift" in result.output
    print(f"{len(statuses)} requests through {WORKERS} gunicorn workers in {elapsed:.1f}s")
