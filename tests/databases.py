"""The databases the suite runs on: a migrated template, and a fresh copy of it for each test.

``FORUM_TEST_DATABASE`` chooses the kind: ``sqlite`` (the default) or ``postgres``. For
PostgreSQL the suite starts a throwaway cluster (initdb into a temporary folder, a free port on
127.0.0.1, its unix socket in that folder) and removes it at the end; set
``FORUM_TEST_POSTGRES_URL`` to a server you already run (its user needs CREATEDB) to use that
instead. Either way the migrations run once into a template database, and each test gets
``CREATE DATABASE … TEMPLATE`` of it: a copy on the server's side, as cheap as copying the SQLite
file, and every test sees exactly the schema and data a new site gets from ``flask db upgrade``.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.processes import free_port

MIN_POSTGRES = 15
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
SUPERUSER = "forum"


def kind() -> str:
    value = os.environ.get("FORUM_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if value in {"postgres", "postgresql", "pg"}:
        return "postgres"
    if value != "sqlite":
        raise RuntimeError(f"FORUM_TEST_DATABASE must be sqlite or postgres, not {value!r}")
    return value


class Unavailable(Exception):
    """No PostgreSQL server can be found or started; the message says why."""


def migrate(url: str, instance: Path) -> None:
    """Build the schema exactly as ``flask db upgrade`` does on a new site."""
    from flask_migrate import upgrade

    from forum import create_app
    from forum.extensions import db

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


class SQLiteTemplate:
    """A file upgraded once; each test gets its own copy beside its tmp_path."""

    name = "sqlite"

    def __init__(self, folder: Path):
        self._folder = folder
        self._path = folder / "forum.db"
        self._seeds = itertools.count(1)
        migrate(f"sqlite:///{self._path}", folder)

    def create(self, folder: Path, seed: str | None = None) -> str:
        """A copy of the migrated template, or of a seeded one (see :meth:`seed`)."""
        copy = folder / "forum.db"
        shutil.copy(seed.removeprefix("sqlite:///") if seed else self._path, copy)
        return f"sqlite:///{copy}"

    def seed(self, build: Callable[[str], None]) -> str:
        """A second template: a copy of the migrated one that ``build(url)`` fills with data
        many tests share; :meth:`create` copies it like the first."""
        folder = self._folder / f"seed-{next(self._seeds)}"
        folder.mkdir()
        url = self.create(folder)
        build(url)
        return url

    def drop(self, url: str) -> None:
        """The copy lives in the test's tmp_path, which pytest cleans up."""

    def close(self) -> None:
        """Nothing runs in the background."""


class PostgresTemplate:
    """A template database on a server; each test gets a database cloned from it.

    Cloning takes a tenth of a second or more, as long as a short test: a background thread
    prepares the next test's database (and drops the last one's) while the current test runs.
    """

    name = "postgres"

    def __init__(self, server_url: str, instance: Path, cluster: Cluster | None = None):
        import psycopg
        from sqlalchemy.engine import make_url

        self.cluster = cluster
        self._url = make_url(server_url)
        # Unique per run, so that two runs sharing one server never clone each other's copies.
        self._prefix = f"forum_test_{os.getpid()}"
        self._names = (f"{self._prefix}_{n}" for n in itertools.count(1))
        self._template = f"{self._prefix}_template"
        # Used by the background thread only, one statement at a time.
        self._admin = psycopg.connect(self._libpq(self._url.database or "postgres"),
                                      autocommit=True)
        self._admin.execute(f'CREATE DATABASE "{self._template}"')
        migrate(self.url_of(self._template), instance)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="forum-pg-clone")
        self._drops: list[Future] = []
        self._seeds: list[str] = []
        # The next copy of each template, prepared while the current test runs.
        self._next = {self._template: self._worker.submit(self._clone, self._template)}

    def _libpq(self, database: str) -> str:
        return self._url.set(drivername="postgresql", database=database).render_as_string(
            hide_password=False)

    def url_of(self, database: str) -> str:
        return self._url.set(drivername="postgresql+psycopg", database=database).render_as_string(
            hide_password=False)

    def _clone(self, template: str) -> str:
        name = next(self._names)
        self._admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def _drop(self, name: str) -> None:
        # FORCE: a live server or gunicorn started by a test may still hold connections.
        self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create(self, folder: Path, seed: str | None = None) -> str:
        """A copy of the migrated template, or of a seeded one (see :meth:`seed`)."""
        from sqlalchemy.engine import make_url

        template = make_url(seed).database if seed else self._template
        spare = self._next.pop(template, None) or self._worker.submit(self._clone, template)
        name = spare.result()
        self._next[template] = self._worker.submit(self._clone, template)
        return self.url_of(name)

    def seed(self, build: Callable[[str], None]) -> str:
        """A second template: a copy of the migrated one that ``build(url)`` fills with data
        many tests share; :meth:`create` clones it like the first. Nothing may stay
        connected to it once built (PostgreSQL clones only idle databases)."""
        url = self.url_of(self._worker.submit(self._clone, self._template).result())
        self._seeds.append(url)
        build(url)
        return url

    def drop(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self._drops.append(self._worker.submit(self._drop, make_url(url).database))

    def close(self) -> None:
        try:
            for spare in self._next.values():
                self._worker.submit(self._drop, spare.result()).result()
            for seed in self._seeds:
                self.drop(seed)
            self._worker.submit(self._drop, self._template).result()
            for dropped in self._drops:
                dropped.result()  # a database that could not be dropped is worth an error
        finally:
            self._worker.shutdown()
            self._admin.close()
            if self.cluster is not None:
                self.cluster.stop()


def server_bindir() -> Path | None:
    """A folder holding initdb, pg_ctl and postgres of version 15 or later, newest first."""
    found: list[Path] = []
    if all(shutil.which(b) for b in SERVER_BINARIES):
        found.append(Path(shutil.which("initdb")).resolve().parent)
    found += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                      key=_major_of_path, reverse=True)]
    for folder in found:
        if all((folder / b).exists() for b in SERVER_BINARIES) and _version(folder) >= MIN_POSTGRES:
            return folder
    return None


def _major_of_path(path: str) -> int:
    match = re.search(r"/(\d+)/bin$", path)
    return int(match.group(1)) if match else 0


def _version(folder: Path) -> int:
    try:
        out = subprocess.run([folder / "postgres", "--version"], capture_output=True, text=True,
                             timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder, removed by ``stop``.

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` system
    user (created by Debian's package) or else to ``nobody``.
    """

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.user = self._owner()
        self.folder = Path(tempfile.mkdtemp(prefix="forum-pg-"))
        self.data = self.folder / "data"
        self.port = 0
        try:
            if self.user is not None:
                os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
            self._initdb()
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def _owner() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                return pwd.getpwnam(name)
        raise Unavailable("running as root and neither a 'postgres' nor a 'nobody' user "
                          "exists to own the test cluster")

    def _run(self, *args: str | Path, timeout: float = 120) -> None:
        owner = {} if self.user is None else {"user": self.user.pw_uid,
                                              "group": self.user.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(self.folder)}
        result = subprocess.run([str(a) for a in args], cwd=self.folder, env=env,
                                capture_output=True, text=True, timeout=timeout, **owner)
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unavailable(f"{Path(args[0]).name} failed ({result.returncode}): "
                              f"{result.stderr.strip() or result.stdout.strip()}\n{tail}")

    def _initdb(self) -> None:
        # C.UTF-8 keeps sorting byte-wise yet lets pg_trgm and full-text search see é as a
        # letter; trust on loopback and the private socket folder only, for a cluster that
        # lives as long as the test run.
        self._run(self.bindir / "initdb", "-D", self.data, "-U", SUPERUSER, "--encoding=UTF8",
                  "--locale=C.UTF-8", "--auth=trust", "--no-sync")

    def _start(self) -> None:
        # Durability is pointless for a cluster removed at the end of the run.
        options = ("-c listen_addresses=127.0.0.1 -c port={port} "
                   f"-c unix_socket_directories='{self.folder}' -c max_connections=300 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c shared_buffers=64MB "
                   # Far from UTC (+13:45), so that a naive or local time shows up in the tests.
                   "-c timezone=Pacific/Chatham")
        for attempt in itertools.count(1):
            self.port = free_port()
            try:
                self._run(self.bindir / "pg_ctl", "start", "-w", "-t", "60", "-D", self.data,
                          "-l", self.folder / "server.log", "-o", options.format(port=self.port))
                return
            except Unavailable:
                # Another process may have taken the port between our probe and the bind.
                if attempt == 3:
                    raise

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Unavailable, OSError, subprocess.SubprocessError):
                self._run(self.bindir / "pg_ctl", "stop", "-D", self.data, "-m", "immediate",
                          "-w", "-t", "30")
        shutil.rmtree(self.folder, ignore_errors=True)


def open_template(folder: Path) -> SQLiteTemplate | PostgresTemplate:
    """The template of the kind under test; raises Unavailable when PostgreSQL cannot run."""
    if kind() == "sqlite":
        return SQLiteTemplate(folder)
    try:
        import psycopg  # noqa: F401
    except ImportError as error:
        raise Unavailable(f"psycopg is not installed ({error})") from error
    url = os.environ.get("FORUM_TEST_POSTGRES_URL")
    if url:
        return PostgresTemplate(url, folder)
    bindir = server_bindir()
    if bindir is None:
        raise Unavailable(
            f"no PostgreSQL {MIN_POSTGRES}+ server binaries (initdb, pg_ctl, postgres) on PATH or "
            "in /usr/lib/postgresql/*/bin; `make postgres-deps` installs them as root")
    cluster = Cluster(bindir)
    try:
        return PostgresTemplate(cluster.url, folder, cluster)
    except BaseException:
        cluster.stop()
        raise


# pytest fixtures and hooks (this module is a plugin of tests/conftest.py)

@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """The database under test (FORUM_TEST_DATABASE: sqlite, or postgres), upgraded once with
    `flask db upgrade`'s code into a template, once per run."""
    from tests.conftest import skip_or_fail

    try:
        template = open_template(tmp_path_factory.mktemp("template"))
    except Unavailable as error:
        skip_or_fail(f"PostgreSQL run: {error}")
    yield template
    template.close()


@pytest.fixture
def database_url(migrated_db, tmp_path, request) -> Iterator[str]:
    """A fresh copy of the template for this test, dropped afterwards.

    A test whose fixtures include ``database_seed`` (a session fixture returning the URL of
    ``migrated_db.seed(build)``) gets a copy of that seeded template instead: data many tests
    share is built once per run rather than once per test.
    """
    seed = request.getfixturevalue("database_seed") if "database_seed" in \
        request.fixturenames else None
    url = migrated_db.create(tmp_path, seed)
    yield url
    migrated_db.drop(url)


def pytest_report_header(config) -> str:
    once = ("" if kind() == "sqlite" or os.environ.get("FORUM_TEST_EVERYTHING") == "1" else
            "; tests that do not depend on the database ran on SQLite and are deselected")
    return f"database: {kind()} (FORUM_TEST_DATABASE){once}"


# Tiers whose subject is what a person sees or a rule computes, not what the database does.
ONCE_TIERS = ("browser", "unit")


def once_because(item) -> str | None:
    """Why this test runs on the SQLite run only (None: it runs on both databases).

    The PostgreSQL run is for what can differ by database. A test runs once when it uses no
    database (no ``database_url`` among its fixtures), when it is in a tier of ONCE_TIERS, or
    when it says so with ``@pytest.mark.any_database("why")``. Everything else, in particular
    every new test that touches the database, runs on both.
    """
    mark = item.get_closest_marker("any_database")
    if mark is not None:
        return mark.args[0] if mark.args else mark.kwargs.get("reason", "any_database")
    path = item.path
    if path.parent.name in ONCE_TIERS and path.parent.parent.name == "tests":
        return f"the tests/{path.parent.name} tier"
    if "database_url" not in getattr(item, "fixturenames", ()):
        return "uses no database"
    return None


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.path.parent.name == "postgres" and item.path.parent.parent.name == "tests":
            item.add_marker(pytest.mark.postgres_only("the tests/postgres tier"))
    # FORUM_TEST_EVERYTHING=1 runs the database-independent tests on PostgreSQL as well.
    if kind() == "sqlite" or os.environ.get("FORUM_TEST_EVERYTHING") == "1":
        return
    once = [item for item in items if once_because(item) is not None]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if once_because(item) is None]


def pytest_runtest_setup(item) -> None:
    """Tests bound to one database say why (``sqlite_only``/``postgres_only`` take a reason);
    they are skipped on the other one, which is a choice, not a missing system part."""
    for marker, needed in (("sqlite_only", "sqlite"), ("postgres_only", "postgres")):
        mark = item.get_closest_marker(marker)
        if mark is not None and kind() != needed:
            reason = mark.args[0] if mark.args else mark.kwargs.get("reason", "")
            pytest.skip(f"{needed} only: {reason}")
