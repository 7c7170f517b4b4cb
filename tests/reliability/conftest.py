"""A live server for the reliability suite: gunicorn serving the real app (several workers)
on a free loopback port, over an SQLite database in a temporary folder, and clients that post
ideas and vote the way a browser does (session cookie, CSRF token), recording which of their
requests got a success answer."""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest

from forum import create_app
from forum.accounts import services as accounts
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board
from tests.processes import gunicorn_flags

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLIENTS = 6
WORKERS = 3
PASSWORD = "correct horse battery"


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces; the parent id follows its closing parenthesis.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Server:
    """gunicorn serving wsgi:app on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, port: int) -> None:
        self.env, self.log, self.port = env, log, port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(BIN / "gunicorn"), "--workers", str(WORKERS),
                   "--bind", f"127.0.0.1:{self.port}", "--timeout", "10",
                   "--graceful-timeout", "3", *gunicorn_flags(), "wsgi:app"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", "/")
                if connection.getresponse().status == 200 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start: " + self.log.read_text()[-3000:])

    def workers(self) -> list[int]:
        return [pid for pid in children_of(self.process.pid) if alive(pid)]

    def kill_worker(self) -> None:
        for _attempt in range(50):
            workers = self.workers()
            if workers:
                try:
                    os.kill(random.choice(workers), signal.SIGKILL)
                    return
                except ProcessLookupError:  # it went away between the listing and the kill
                    pass
            time.sleep(0.1)
        raise AssertionError("no worker to kill")

    def kill_master(self) -> None:
        """SIGKILL the master; its orphaned workers notice and leave (or are killed)."""
        orphans = self.workers()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in orphans) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in orphans:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Op:
    kind: str            # "idea", "vote", "unvote"
    target: str | int    # the idea's title (posting) or id (voting)
    acked: bool = False
    idea_id: int | None = None


@dataclass
class Client:
    port: int
    email: str
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""
    ops: list[Op] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    refused: int = 0

    def request(self, method: str, path: str, form: dict | None = None,
                json: bool = False) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json:
            headers["Accept"] = "application/json"
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";")[0]
        self.statuses[response.status] += 1
        return response.status, dict(response.headers), text

    def _fetch_token(self, path: str) -> str:
        _status, _headers, page = self.request("GET", path)
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def sign_in(self) -> None:
        self.token = self._fetch_token("/signin")
        status, _headers, _ = self.request("POST", "/signin", {"email": self.email,
                                                               "password": PASSWORD})
        if status != 302:
            raise http.client.HTTPException(f"sign-in answered {status}")
        # Signing in starts a new session, and with it a new CSRF token.
        self.token = self._fetch_token("/ideas/new")

    def post_idea(self, n: int) -> None:
        title = f"{self.email.split('@')[0]} idea {n}"
        op = Op("idea", title)
        self.ops.append(op)
        status, headers, _ = self.request("POST", "/ideas/new", {
            "title": title, "body": f"Body of {title}.", "board": "1"})
        if status == 302 and "/ideas/" in headers.get("Location", ""):
            op.acked, op.idea_id = True, int(headers["Location"].rsplit("/", 1)[1])
            self.request("GET", f"/ideas/{op.idea_id}")  # read the flash, as a browser would

    def vote(self, idea_id: int, cast: bool) -> None:
        op = Op("vote" if cast else "unvote", idea_id)
        self.ops.append(op)
        status, _headers, text = self.request(
            "POST", f"/ideas/{idea_id}/{op.kind}", {}, json=True)
        if status == 200:
            op.acked = f'"voted":{str(cast).lower()}' in text.replace(" ", "")

    def run(self, stop: threading.Event, shared: list[int], seed: int) -> None:
        rng = random.Random(seed)
        n = 0
        while not stop.is_set():
            n += 1
            sent = len(self.ops)
            try:
                if not self.token:
                    self.sign_in()
                if rng.random() < 0.3:
                    self.post_idea(n)
                else:
                    self.vote(rng.choice(shared), rng.random() < 0.6)
            except ConnectionRefusedError:
                # Nobody listening (the server is down): the request was never sent.
                if len(self.ops) > sent and not self.ops[-1].acked:
                    self.ops.pop()
                self.refused += 1
                time.sleep(0.05)
            except (OSError, http.client.HTTPException):
                # The worker died under us or the server is restarting: the answer never
                # came, so the operation's outcome is unknown. Try again shortly.
                time.sleep(0.05)


@pytest.fixture
def site(tmp_path):
    """An instance folder with a migrated SQLite database, people and three shared ideas."""
    from flask_migrate import upgrade

    env = {**os.environ, "HOME": str(tmp_path), "FORUM_INSTANCE_PATH": str(tmp_path),
           "FORUM_DATABASE_URL": f"sqlite:///{tmp_path / 'forum.db'}",
           "FORUM_SEARCH_BACKEND": "whoosh",
           "FORUM_SEARCH_INDEX_DIR": str(tmp_path / "search-index"),
           "FORUM_SECRET_KEY": "fault-test-secret", "FORUM_PASSWORD_HASH_METHOD":
           "scrypt:1024:8:1", "PYTHONUNBUFFERED": "1"}
    config = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": env["FORUM_DATABASE_URL"],
              "SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_DIR": env["FORUM_SEARCH_INDEX_DIR"],
              "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        board = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        people = [accounts.register(email=f"client{n}@example.com", name=f"Client {n}",
                                    password=PASSWORD) for n in range(CLIENTS)]
        shared = [ideas.submit_idea(people[0], title=f"Shared idea {n}", body="Vote here.",
                                    board=board).id for n in range(3)]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return env, config, shared, tmp_path
