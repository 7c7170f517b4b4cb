"""Shipping an idea to 100,000 voters, and delivering the news: ``python -m bench.ship``.

On a scratch copy of the big data set, open ideas get every generated person as their voters
(set-based inserts leaving what ``cast_vote`` leaves: a vote and a ``status`` subscription
each), with confirmed addresses and email switched on, so that every voter but the one who ships
gets an email: the worst case. This preparation is timed apart; it is not what is measured.

Then, with the forum served by gunicorn as ``bench/run.py`` serves it:

1. a staff member signs in, opens the status screen with "shipped" chosen (its preview counts
   who will be told) and confirms it with release notes: ONE real form POST, timed (target
   < 2 s). The outbox must then hold one message per voter told.
2. ``flask forum deliver --once``, the real command in its own process, sends them over SMTP to
   a sink on 127.0.0.1 (aiosmtpd, counting): messages per second from the start of the command
   to the last message received (target >= 200/s). The sink must have received one message per
   voter told, and the outbox must have no pending row left.
3. A second idea with the same voters is shipped the same way and delivered by two deliverers
   at once (the outbox hands rows out under a lease).
4. The baseline: what the sink takes from a bare smtplib loop sending a message of the same size
   over one connection, measured right after the deliveries.

``python -m bench.run`` calls ``measure``. Alone: ``python -m bench.ship [--voters N] [--json]``,
``--data DIR`` for another generated set (the tests use a tiny one). ``BENCH_SHIP_VOTERS`` limits
the voters in a ``make bench`` run (default: every person of the set), ``BENCH_SHIP_DELIVERERS``
the deliverer counts measured (default ``1,2``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import String, create_engine, exists, func, insert, literal, select, update

from bench import run
from forum.accounts.models import User
from forum.db import UTCDateTime
from forum.ideas import ranking
from forum.ideas.models import Board, Idea, Status, Subscription, Vote

REQUEST_TARGET = "< 2 s"
DELIVERY_TARGET = ">= 200 messages/s"
BASELINE_MESSAGES = 20_000
NOTE = "Out today in 4.2."
RELEASE_NOTES = "**4.2** brings it to everyone: turn it on under *Settings*."
DELIVER_TIMEOUT_S = 3600
MESSAGE_ID = re.compile(rb"^Message-ID: *(\S+)", re.MULTILINE | re.IGNORECASE)
# In `make bench`, each delivery is stopped after this long (BENCH_SHIP_DELIVER_SECONDS; 0
# drains): at the rates measured so far, draining 100,000 messages takes half an hour.
DELIVER_SECONDS = 180


# --- preparation --------------------------------------------------------------------------


@dataclass
class Prepared:
    voters: dict[int, int]  # idea id: its voters
    seconds: float


def prepare(folder: Path, *, voters: int | None, ideas: int) -> Prepared:
    """Give ``ideas`` open public ideas (nothing merged into them) the first ``voters`` people
    (everyone when None) as voters, in a few statements; confirm every voter's address and
    switch their email on."""
    started = time.perf_counter()
    engine = create_engine(f"sqlite:///{folder / 'forum.db'}")
    now = datetime.now(UTC)
    at = literal(now, UTCDateTime())
    child = Idea.__table__.alias("child")
    with engine.begin() as db:
        chosen = db.scalars(
            select(Idea.id).join(Status, Status.id == Idea.status_id)
            .join(Board, Board.id == Idea.board_id).join(User, User.id == Idea.author_id)
            .where(Status.slug == "open", Board.visibility == "public",
                   Idea.merged_into_id.is_(None), Idea.hidden_at.is_(None),
                   User.is_banned.is_(False),
                   ~exists().where(child.c.merged_into_id == Idea.id))
            .order_by(Idea.id).limit(ideas)).all()
        people = select(User.id).order_by(User.id)
        if voters is not None:
            people = people.limit(voters)
        people = people.scalar_subquery()
        for idea_id in chosen:
            db.execute(insert(Vote).from_select(
                ["idea_id", "user_id", "source", "created_at"],
                select(literal(idea_id), User.id, literal("web", String), at)
                .where(User.id.in_(people),
                       ~exists().where(Vote.idea_id == idea_id, Vote.user_id == User.id))))
            db.execute(insert(Subscription).from_select(
                ["idea_id", "user_id", "level", "created_at"],
                select(literal(idea_id), User.id, literal("status", String), at)
                .where(User.id.in_(people), ~exists().where(
                    Subscription.idea_id == idea_id, Subscription.user_id == User.id))))
            # As `flask forum check` recomputes them.
            times = sorted(db.scalars(select(Vote.created_at).where(Vote.idea_id == idea_id)))
            db.execute(update(Idea).where(Idea.id == idea_id).values(
                vote_count=len(times), trending_score=ranking.trending_score(times),
                last_activity_at=now))
        every_voter = select(Vote.user_id).where(Vote.idea_id.in_(chosen))
        db.execute(update(User).where(User.id.in_(every_voter),
                                      User.email_confirmed_at.is_(None))
                   .values(email_confirmed_at=now))
        db.execute(update(User).where(User.id.in_(every_voter), User.notify_frequency == "never")
                   .values(notify_frequency="immediately"))
        counts = {i: db.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id == i))
                  for i in chosen}
    engine.dispose()
    if len(chosen) < ideas:
        raise RuntimeError(f"wanted {ideas} open public ideas, found {len(chosen)}")
    return Prepared(voters=counts, seconds=round(time.perf_counter() - started, 1))


# --- the SMTP sink ------------------------------------------------------------------------


class Sink:
    """An aiosmtpd handler that only counts (and keeps one message, for the baseline's size)."""

    def __init__(self) -> None:
        self.recipients: Counter[str] = Counter()
        # Stable per outbox row across attempts: the same one twice is a message sent twice.
        self.message_ids: Counter[bytes] = Counter()
        self.received = 0
        self.first: float | None = None
        self.last: float | None = None
        self.sample: bytes = b""

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        self.last = time.monotonic()
        if self.first is None:
            self.first = self.last
            self.sample = envelope.original_content or b""
        self.received += 1
        self.recipients.update(envelope.rcpt_tos)
        found = MESSAGE_ID.search(envelope.original_content or b"")
        self.message_ids[found.group(1) if found else b""] += 1
        return "250 OK"


@contextlib.contextmanager
def sink() -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    handler = Sink()
    port = run.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


# --- the measured steps -------------------------------------------------------------------


def cpu_seconds(pids: list[str]) -> float:
    """CPU time (user and system) these processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def ship(url: str, cookie: str, idea_id: int, workers: list[str]) -> dict:
    """The staff's two requests: the preview (GET), then the confirmation (POST), each timed;
    with the CPU time the workers spent on the POST, which the neighbours' load does not
    stretch as it stretches wall time."""
    request = urllib.request.Request(f"{url}/ideas/{idea_id}/status?status=shipped",
                                     headers={"Cookie": cookie})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        page = response.read().decode()
    preview_s = time.perf_counter() - started
    body = urllib.parse.urlencode({"csrf_token": run._csrf(page), "status": "shipped",
                                   "note": NOTE, "release_notes": RELEASE_NOTES})
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    cpu = cpu_seconds(workers)
    started = time.perf_counter()
    connection.request("POST", f"/ideas/{idea_id}/status", body=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    request_s = time.perf_counter() - started
    cpu = cpu_seconds(workers) - cpu
    connection.close()
    if response.status != 302:
        raise RuntimeError(f"shipping idea {idea_id} answered {response.status}")
    return {"idea": idea_id, "preview_s": round(preview_s, 2), "request_s": round(request_s, 2),
            "request_cpu_s": round(cpu, 2)}


def outbox(folder: Path, idea_id: int | None = None) -> dict[str, int]:
    """Rows of the outbox (about this idea), by state."""
    with contextlib.closing(sqlite3.connect(f"file:{folder / 'forum.db'}?mode=ro",
                                            uri=True)) as db:
        return dict(db.execute("SELECT state, count(*) FROM outbox WHERE ? IS NULL OR "
                               "idea_id = ? GROUP BY state", (idea_id, idea_id)).fetchall())


def notified(folder: Path, idea_id: int) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{folder / 'forum.db'}?mode=ro",
                                            uri=True)) as db:
        return db.execute("SELECT notified_count FROM status_changes WHERE idea_id = ? "
                          "ORDER BY id DESC LIMIT 1", (idea_id,)).fetchone()[0]


def deliver(folder: Path, deliverers: int, expected: int,
            limit_s: float | None = None) -> tuple[dict, bytes]:
    """``deliverers`` processes of ``flask forum deliver --once`` until the outbox is drained,
    or interrupted (Ctrl+C, as an operator stops it) after ``limit_s`` seconds."""
    load = run.load_average()
    with sink() as (received, port), tempfile.TemporaryDirectory(prefix="bench-home-") as home:
        env = {**os.environ, "FORUM_INSTANCE_PATH": str(folder), "HOME": home,
               "FORUM_MAIL_URL": f"smtp://127.0.0.1:{port}"}
        logs = [Path(home) / f"deliver-{n}.log" for n in range(deliverers)]
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        processes = [subprocess.Popen(
            [str(run.BIN / "flask"), "--app", "wsgi", "forum", "deliver", "--once"],
            cwd=run.ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
            # Started from a background job, they would inherit an ignored SIGINT.
            preexec_fn=_default_sigint) for log in logs]
        deadline = started + (limit_s or DELIVER_TIMEOUT_S)
        while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
            time.sleep(0.2)
        interrupted = any(p.poll() is None for p in processes)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        codes = [p.wait(timeout=60) for p in processes]
        ended = time.monotonic()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        output = [log.read_text()[-2000:] for log in logs]
    if received.first is None or received.last is None:
        raise RuntimeError(f"the sink received nothing: {output}")
    seconds = received.last - started
    return {
        "deliverers": deliverers,
        "expected": expected,
        "received": received.received,
        "distinct_recipients": len(received.recipients),
        "distinct_messages": len(received.message_ids),
        "received_twice": sum(1 for n in received.message_ids.values() if n > 1),
        "seconds": round(seconds, 1),
        "messages_per_s": round(received.received / seconds, 1),
        # The commands' start (interpreter, app, first query) is inside the figure above.
        "startup_s": round(received.first - started, 1),
        "process_seconds": round(ended - started, 1),
        # What the deliverers used, startup included: the ceiling of one core per deliverer.
        "cpu_s": round(cpu_s, 1),
        "cpu_ms_per_message": round(1000 * cpu_s / max(1, received.received), 2),
        "exit_codes": codes,
        "interrupted_after_s": round(limit_s or DELIVER_TIMEOUT_S) if interrupted else None,
        "load_average_before": load,
        "load_average_after": run.load_average(),
        **({"output": output} if any(codes) else {}),
    }, received.sample


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def bare_smtp(sample: bytes, messages: int) -> dict:
    """The sink's ceiling: the same message sent ``messages`` times over one connection."""
    with sink() as (received, port):
        started = time.monotonic()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for n in range(messages):
                smtp.sendmail("feedback@localhost", [f"bare{n}@example.com"], sample)
        seconds = time.monotonic() - started
    if received.received != messages:
        raise RuntimeError(f"the sink took {received.received} of {messages}")
    return {"what": "bare smtplib loop, one connection, same sink, message of the same size",
            "messages": messages, "message_bytes": len(sample),
            "messages_per_s": round(messages / seconds, 1)}


def measure(source: Path, meta: dict, *, voters: int | None = None,
            deliverers: tuple[int, ...] = (1, 2), limit_s: float | None = None) -> dict:
    """The whole scenario on a scratch copy of ``source``; the figures as a dict."""
    scratch = source.parent / f"{source.name}-ship-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    started = time.perf_counter()
    shutil.copytree(source, scratch)
    try:
        run.upgrade(scratch)  # also refuses a set whose schema lags the models
        copied = round(time.perf_counter() - started, 1)
        prepared = prepare(scratch, voters=voters, ideas=len(deliverers))
        report: dict = {
            "data_set": source.name, "voters": max(prepared.voters.values()), "copy_s": copied,
            "prepare_s": prepared.seconds, "load_average_before": run.load_average(),
            "targets": {"request_s": REQUEST_TARGET, "messages_per_s": DELIVERY_TARGET},
            "ships": [], "deliveries": [],
        }
        sample = b""
        with run.serve("wsgi:app", {"FORUM_INSTANCE_PATH": str(scratch),
                                    **run.NO_RATE_LIMITS}) as (url, process):
            cookie, _token = run.sign_in(url, meta["staff_email"], meta["password"])
            workers = run.worker_pids(process)
            for idea_id, count in zip(prepared.voters, deliverers, strict=True):
                shipped = ship(url, cookie, idea_id, workers)
                shipped["voters"] = prepared.voters[idea_id]
                shipped["notified"] = notified(scratch, idea_id)
                shipped["outbox_before"] = outbox(scratch, idea_id)
                report["ships"].append(shipped)
                # The whole outbox: a delivery stopped early leaves rows the next one sends.
                before = outbox(scratch)
                delivery, sample = deliver(scratch, count, before.get("pending", 0), limit_s)
                delivery["outbox_before"] = before
                delivery["outbox_after"] = outbox(scratch)
                report["deliveries"].append(delivery)
        report["baseline"] = bare_smtp(sample, min(BASELINE_MESSAGES, report["voters"]))
        report["load_average_after"] = run.load_average()
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def problems(report: dict) -> list[str]:
    """What makes the run wrong rather than slow: lost, doubled or stuck messages."""
    found = []
    for shipped, delivery in zip(report["ships"], report["deliveries"], strict=True):
        voters = shipped["voters"]
        told = shipped["outbox_before"].get("pending", 0)
        # Every voter but the staff member who ships (a voter too when everyone votes).
        if told not in (voters, voters - 1) or shipped["notified"] != told:
            found.append(f"idea {shipped['idea']}: {voters} voters, {told} messages queued, "
                         f"{shipped['notified']} recorded as notified")
        before, after = delivery["outbox_before"], delivery["outbox_after"]
        received = delivery["received"]
        if delivery["received_twice"] or received != delivery["distinct_messages"]:
            found.append(f"idea {shipped['idea']}: {delivery['received_twice']} messages "
                         "arrived twice")
        # What the sink has is what the outbox marked sent, give or take the message each
        # deliverer had in flight when it was stopped.
        sent = after.get("sent", 0) - before.get("sent", 0)
        in_flight = after.get("sending", 0) if delivery["interrupted_after_s"] else 0
        if not sent <= received <= sent + in_flight:
            found.append(f"idea {shipped['idea']}: {received} received, outbox {before} before "
                         f"the delivery and {after} after")
        if not delivery["interrupted_after_s"] and (
                after.get("pending") or after.get("sending") or any(delivery["exit_codes"])):
            found.append(f"idea {shipped['idea']}: outbox after delivery {after}, exit codes "
                         f"{delivery['exit_codes']}")
    return found


def table_lines(report: dict) -> list[str]:
    """The shipping scenario in the readable table (``bench/results/latest.md``)."""
    if "error" in report:
        return ["", f"Shipping to every voter: not measured: {report['error']}"]
    base = report["baseline"]
    lines = [
        "",
        f"Shipping an idea to {report['voters']:,} voters (`bench/ship.py`; load average "
        f"{report['load_average_before']} before, {report['load_average_after']} after):",
        "",
        "| step | figure | baseline | ratio | target |",
        "|---|---:|---:|---:|---|",
    ]
    for shipped in report["ships"]:
        lines.append(f"| status change to shipped, one form POST with release notes "
                     f"(idea {shipped['idea']}, {shipped['notified']:,} told) | "
                     f"{shipped['request_s']} s (workers' CPU {shipped['request_cpu_s']} s) | | | "
                     f"{report['targets']['request_s']} |")
        lines.append(f"| its preview (GET, counts who will be told) | {shipped['preview_s']} s "
                     "| | | |")
    for delivery in report["deliveries"]:
        lines.append(
            f"| `flask forum deliver --once` x{delivery['deliverers']} to the SMTP sink"
            + (f" (stopped after {delivery['interrupted_after_s']} s)"
               if delivery["interrupted_after_s"] else "")
            + f": {delivery['received']:,} of {delivery['expected']:,} received, outbox after "
            f"{delivery['outbox_after']} | {delivery['messages_per_s']} messages/s "
            f"({delivery['seconds']} s; {delivery['cpu_ms_per_message']} ms of CPU per message) | "
            f"{base['messages_per_s']} messages/s (bare smtplib) | "
            f"{round(delivery['messages_per_s'] / base['messages_per_s'], 3)} | "
            f"{report['targets']['messages_per_s']} |")
    lines += ["", f"Preparation (not measured): copy {report['copy_s']} s, votes and "
              f"subscriptions {report['prepare_s']} s."]
    if report.get("problems"):
        lines.append("PROBLEMS: " + "; ".join(report["problems"]))
    return lines


def from_environment(data: run.DataSet) -> dict:
    """What ``bench.run`` calls: the big set, with BENCH_SHIP_* knobs."""
    voters = os.environ.get("BENCH_SHIP_VOTERS")
    counts = tuple(int(n) for n in os.environ.get("BENCH_SHIP_DELIVERERS", "1,2").split(","))
    limit = float(os.environ.get("BENCH_SHIP_DELIVER_SECONDS", DELIVER_SECONDS))
    print(f"  shipping to the voters of {data.name}…", flush=True)
    try:
        report = measure(data.folder, data.meta(), voters=int(voters) if voters else None,
                         deliverers=counts, limit_s=limit or None)
    except RuntimeError as error:  # the load scenarios' figures are written all the same
        return {"error": str(error)}
    report["problems"] = problems(report)
    return report


@click.command()
@click.option("--data", "folder", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="A generated data set (default: the big set of bench.run).")
@click.option("--voters", type=int, default=None, help="Voters per idea (default: everyone).")
@click.option("--deliverers", default="1,2", show_default=True,
              help="Deliverer processes of each delivery, one shipped idea per entry.")
@click.option("--deliver-seconds", type=float, default=None,
              help="Stop each delivery after this long (default: when the outbox is empty).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def main(folder: Path | None, voters: int | None, deliverers: str, deliver_seconds: float | None,
         as_json: bool) -> None:
    """Ship an idea to its voters through gunicorn and deliver the news to an SMTP sink."""
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    if folder is None:
        data = run.datasets()["big"]
        run.ensure_data(data)
        folder = data.folder
    meta = json.loads((folder / "bench.json").read_text())
    report = measure(folder, meta, voters=voters,
                     deliverers=tuple(int(n) for n in deliverers.split(",")),
                     limit_s=deliver_seconds)
    report["problems"] = problems(report)
    click.echo(json.dumps(report, indent=1) if as_json else "\n".join(table_lines(report)))
    if report["problems"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
