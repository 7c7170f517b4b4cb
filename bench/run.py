"""The benchmark suite: ``make bench`` (or ``python -m bench.run``).

Serves the forum on generated data with gunicorn on 127.0.0.1, drives it with wrk, and divides
every throughput by a baseline measured in the same run with the same gunicorn settings
(bench/baseline.py). Writes ``bench/results/latest.json`` and prints a table.

Adding a scenario is one entry in ``scenarios()``: a name, the data set, the request (a path, or
a Lua ``request`` function for wrk), who is signed in, and which baseline it is compared with.

Environment knobs:
- ``BENCH_SCALE`` (default 1): the big set is 100,000 ideas x BENCH_SCALE (votes and comments
  in proportion); 0.1 gives a quick run.
- ``BENCH_DURATION`` (default 12 s per scenario, as much again for its baseline),
  ``BENCH_CONNECTIONS`` (default 32).
- ``BENCH_HUGE=1`` also measures the board page at 1,000,000 ideas (2,000,000 votes; the
  generation takes several minutes and about 1.5 GB, once).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
DURATION = int(os.environ.get("BENCH_DURATION", "12"))
WARMUP = 2
SLICES = 3  # baseline and scenario alternate this many times within DURATION each
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
# As bench/gunicorn.conf.py computes it (unless GUNICORN_CMD_ARGS says otherwise).
WORKERS = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))

# One client address sends every request: the per-address limits (similar ideas, API writes)
# would answer 429 and measure the limiter, not the forum.
NO_RATE_LIMITS = {"FORUM_RATELIMIT_ENABLED": "false"}

# wrk prints its summary through this hook as one JSON line (latencies in microseconds).
DONE_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d, '
    .. '"max": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


@dataclass
class DataSet:
    name: str
    ideas: int
    votes: int
    comments: int

    @property
    def folder(self) -> Path:
        return DATA / self.name

    def meta(self) -> dict:
        return json.loads((self.folder / "bench.json").read_text())


@dataclass
class Scenario:
    name: str
    what: str
    server: str  # "forum:<data set>", or "floor:<data set>" (bench/floor.py, writes only)
    baseline: str  # "read" or "write"
    path: str = "/"
    signed_in: bool = False
    # A Lua body defining ``request = function() ... end``; ``HEADERS`` is provided.
    lua: str | None = None
    target: str = ""
    # Latency targets (search, similar) are measured one connection per core: at 32
    # connections a p95 is mostly time spent queueing behind the other 31 requests.
    connections: int | None = None
    # A path whose first request in each worker builds something once per process (the
    # duplicate ranker): timed apart, before the measurement, and reported as such.
    first_use: str | None = None


@dataclass
class Outcome:
    name: str
    what: str
    requests_per_s: float
    ratio: float
    baseline_requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int
    baseline: str
    target: str = ""
    notes: list[str] = field(default_factory=list)


def datasets() -> dict[str, DataSet]:
    big = max(1_000, int(100_000 * SCALE))
    sets = {
        "big": DataSet(f"ideas-{big}", big, big * 10, big * 2),
        "10k": DataSet("ideas-10000", 10_000, 100_000, 20_000),
    }
    if os.environ.get("BENCH_HUGE") == "1":
        # What a list page costs depends on the number of ideas; votes are kept at two per idea
        # so that the set generates in minutes, not an hour.
        sets["1m"] = DataSet("ideas-1000000", 1_000_000, 2_000_000, 200_000)
    return sets


def scenarios(sets: dict[str, DataSet]) -> list[Scenario]:
    big = sets["big"]
    meta = big.meta()
    page_target = ">= 0.40 of bare read, p99 < 100 ms"
    out = []
    for sort in ("top", "trending", "new"):
        for signed_in in (False, True):
            who = "signed in" if signed_in else "signed out"
            out.append(Scenario(
                f"board_{sort}_{'member' if signed_in else 'anonymous'}",
                f"board page, {sort}, {who}, {big.ideas:,} ideas", "forum:big", "read",
                path=f"/?sort={sort}", signed_in=signed_in, target=page_target))
    idea = meta["idea_with_20_comments"]
    out.append(Scenario("idea_page", "idea page with 20 comments, signed out", "forum:big",
                        "read", path=f"/ideas/{idea}", target=page_target,
                        # Its related ideas come from the duplicate ranker.
                        first_use=f"/ideas/{idea}"))
    out.append(Scenario("api_list", "GET /api/v1/ideas?sort=top, signed out", "forum:big",
                        "read", path="/api/v1/ideas?sort=top", target=page_target))
    rotate = _rotating(SEARCHES)
    out.append(Scenario("search", f"search page, {len(SEARCHES)} queries in turn, signed out",
                        "forum:big", "read", lua='PATH = "/search?q=%s"\n' + rotate,
                        connections=WORKERS, target="p95 < 50 ms"))
    # The search keeps the decoded posting lists of common words between queries: twelve
    # queries soon have all theirs kept. This mix has ten times as many, most of whose words
    # no other query of the run shares.
    features = feature_searches()
    out.append(Scenario("search_features", f"search page, {len(features)} different queries "
                        "(every feature the data's titles name) in turn, signed out",
                        "forum:big", "read", lua='PATH = "/search?q=%s"\n' + _rotating(features),
                        connections=WORKERS, target="p95 < 50 ms"))
    # Every title differs (a number is appended), as while someone types: rankings are memoized
    # per index state, and this scenario must measure ranking, not the memo.
    unique = rotate.replace("string.format(PATH, queries[(counter % #queries) + 1])",
                            'string.format(PATH, queries[(counter % #queries) + 1] .. "%20" .. '
                            'counter .. "%20" .. thread_tag)').replace(
        "local counter = math.random(0, #queries - 1)",
        "local counter = math.random(0, #queries - 1)\nlocal thread_tag = math.random(1, 1e9)")
    out.append(Scenario("similar", "similar ideas (GET /similar?title=...), every title new, "
                        "signed out",
                        "forum:big", "read", lua='PATH = "/similar?title=%s"\n' + unique,
                        connections=WORKERS, target="p95 < 100 ms",
                        first_use="/similar?title=dark%20mode"))
    ids = ",".join(str(i) for i in meta["open_ideas"])
    # Each connection's requests alternate vote / unvote over its own run of ideas, so that
    # both operations really change data and none collides with another connection's.
    out.append(Scenario(
        "vote_unvote", "POST /ideas/<id>/vote then /unvote (JSON), signed in", "forum:big",
        "write", signed_in=True, target=">= 0.60 of bare write, no errors, no drift",
        lua=f"""
local ids = {{{ids}}}
local counter = 0
local thread_offset = math.random(0, #ids - 1)
request = function()
  counter = counter + 1
  local idea = ids[((thread_offset + math.floor((counter - 1) / 2)) % #ids) + 1]
  local action = (counter % 2 == 1) and "vote" or "unvote"
  return wrk.format("POST", "/ideas/" .. idea .. "/" .. action, HEADERS, "")
end
"""))
    # What limits the votes: the same requests with less in them, against the same bare write.
    out.append(Scenario(
        "vote_counted", "POST /ideas/<id>/vote on an idea already voted for (its reads, the "
        "write lock and the checks; nothing written), signed in", "forum:big", "write",
        signed_in=True, target="diagnostic: a vote without its writes",
        lua=f"""
request = function()
  return wrk.format("POST", "/ideas/{meta["open_ideas"][0]}/vote", HEADERS, "")
end
"""))
    out.append(Scenario(
        "post_floor", "POST to a view that only loads the signed-in person and answers JSON "
        "(bench/floor.py), signed in", "floor:big", "write", signed_in=True,
        target="diagnostic: the most a vote could reach",
        lua='request = function() return wrk.format("POST", "/bench/floor", HEADERS, "") end\n'))
    for key, data in sets.items():
        if key == "big":
            continue
        out.append(Scenario(f"board_top_anonymous_{key}",
                            f"board page, top, signed out, {data.ideas:,} ideas",
                            f"forum:{key}", "read", path="/?sort=top",
                            target="same as at 100,000 ideas"))
    return out


# What people type into the search box and into a new idea's title (the similar-ideas box).
SEARCHES = ["dark mode", "csv export", "calendar sync", "keyboard shortcuts", "slack",
            "offline mode", "gantt chart", "two-factor authentication", "webhooks",
            "recurring tasks", "export to excel please", "screen reader"]


def feature_searches() -> list[str]:
    """Every feature bench/vocabulary.py puts in titles, in a shuffled (fixed) order."""
    from bench.vocabulary import FEATURES

    queries = list(FEATURES)
    random.Random(11).shuffle(queries)
    return queries


def _rotating(queries: list[str]) -> str:
    """A wrk script body sending ``PATH`` with each query in turn, from a random start."""
    quoted = ", ".join(f'"{urllib.parse.quote(q)}"' for q in queries)
    return f"""
local queries = {{{quoted}}}
local counter = math.random(0, #queries - 1)
request = function()
  counter = counter + 1
  return wrk.format("GET", string.format(PATH, queries[(counter % #queries) + 1]), HEADERS)
end
"""


# --- machinery --------------------------------------------------------------------------------

def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: `make bench` installs it with apt-get when run as root.")
    return wrk


def ensure_data(data: DataSet) -> None:
    from bench.generate import GENERATOR_VERSION

    meta = data.folder / "bench.json"
    if meta.exists() and json.loads(meta.read_text()).get("generator_version") == \
            GENERATOR_VERSION:
        return
    if data.folder.exists():
        shutil.rmtree(data.folder)
    print(f"Generating {data.name} (cached in {data.folder.relative_to(ROOT)})…", flush=True)
    subprocess.run([sys.executable, "-m", "bench.generate", "--ideas", str(data.ideas),
                    "--votes", str(data.votes), "--comments", str(data.comments),
                    "--out", str(data.folder)], cwd=ROOT, check=True)


def upgrade(folder: Path) -> None:
    """Cached data sets follow the schema: new migrations (indexes) are applied to them."""
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                   env={**os.environ, "FORUM_INSTANCE_PATH": str(folder)}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    missing = schema_gaps(folder)
    if missing:
        # A set generated on another branch can carry a revision stamp whose chain skipped
        # migrations of this one: "upgrade" then adds nothing and every write fails.
        sys.exit(f"{folder} does not have the current schema (missing: {', '.join(missing)}); "
                 f"delete it and run again to generate it anew.")


def schema_gaps(folder: Path) -> list[str]:
    """Tables and columns of the models that the data set's database lacks."""
    from sqlalchemy import create_engine, inspect

    from forum import create_app
    from forum.extensions import db

    create_app({"INSTANCE_PATH": str(folder)})  # imports every model into db.metadata

    engine = create_engine(f"sqlite:///{folder / 'forum.db'}")
    try:
        found = inspect(engine)
        tables = set(found.get_table_names())
        gaps = []
        for table in db.metadata.sorted_tables:
            if table.name not in tables:
                gaps.append(table.name)
                continue
            columns = {c["name"] for c in found.get_columns(table.name)}
            gaps += [f"{table.name}.{c.name}" for c in table.columns if c.name not in columns]
        return gaps
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_args() -> list[str]:
    help_text = subprocess.run([str(BIN / "gunicorn"), "--help"], capture_output=True,
                               text=True).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


@contextlib.contextmanager
def serve(app: str, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    home = tempfile.mkdtemp(prefix="bench-home-")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "bench" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", *gunicorn_args(), app],
        cwd=ROOT, env={**os.environ, **env, "HOME": home},
        stdout=subprocess.DEVNULL, stderr=open(RESULTS / "gunicorn.log", "a"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # Ready means every worker is forked and the port answers: a run that starts while the
        # last worker boots measures one worker, not the configured number.
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    if listening_workers(process, port) >= WORKERS:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn for {app} did not start") from None
            time.sleep(0.2)
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(home, ignore_errors=True)


def listening_workers(master: subprocess.Popen, port: int) -> int:
    """How many workers hold a listening socket on ``port``: with ``reuse_port`` each worker
    binds its own after it is forked, and kept-alive connections opened before the last one
    listens would all stay with the others."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                listening.add(f"socket:[{fields[9]}]")
    count = 0
    for pid in worker_pids(master):
        try:
            fds = Path(f"/proc/{pid}/fd")
            if any(os.readlink(fd) in listening for fd in fds.iterdir()):
                count += 1
        except OSError:  # gone, or its descriptors changing as we read them
            continue
    return count


def worker_pids(master: subprocess.Popen) -> list[str]:
    return Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()


def worker_memory(master: subprocess.Popen) -> list[dict[str, float]]:
    """What each worker's resident memory (Rss, MB) is made of: its own (anonymous) pages, the
    file pages it maps (code, the search index: shared with the other workers and the page
    cache), and its proportional share of everything (PSS)."""
    parts = []
    for pid in worker_pids(master):
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                fields[key.replace("VmRSS", "Rss")] = round(int(value.split()[0]) / 1024, 1)
        rollup = Path(f"/proc/{pid}/smaps_rollup")
        if rollup.exists():
            for line in rollup.read_text().splitlines():
                if line.startswith("Pss:"):
                    fields["Pss"] = round(int(line.split()[1]) / 1024, 1)
        parts.append(fields)
    return parts


def sign_in(url: str, email: str, password: str) -> tuple[str, str]:
    """A real sign-in through the form; returns the Cookie header and a CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    token = _csrf(opener.open(f"{url}/signin").read().decode())
    body = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": password}).encode()
    opener.open(f"{url}/signin", data=body).read()
    token = _csrf(opener.open(f"{url}/").read().decode())
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookie and "remember_token" not in cookie:
        raise RuntimeError("sign-in failed")
    return cookie, token


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def wrk(url: str, scenario: Scenario, headers: dict[str, str], duration: int) -> dict:
    header_lua = "HEADERS = {" + ", ".join(
        f'["{k}"] = "{v}"' for k, v in headers.items()) + "}\n"
    body = scenario.lua or (
        f'request = function() return wrk.format("GET", "{scenario.path}", HEADERS) end\n')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(header_lua + body + DONE_LUA)
    try:
        result = subprocess.run(
            [ensure_wrk(), "-t1", f"-c{scenario.connections or CONNECTIONS}", f"-d{duration}s",
             "--timeout", "10s", "-s", script.name, url],
            capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script.name)
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("RESULT "))
    figures = json.loads(line[len("RESULT "):])
    figures["errors"] = sum(figures[k] for k in ("connect", "read", "write", "status",
                                                 "timeout"))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def first_use(url: str) -> float:
    """Seconds until every worker has answered ``url`` once (requests sent together, so that
    each worker gets some); what the first visitors of a freshly started worker wait."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS * 4) as pool:
        list(pool.map(lambda _n: urllib.request.urlopen(url, timeout=900).read(),
                      range(WORKERS * 4)))
    return round(time.monotonic() - started, 1)


def ranker_ready(url: str) -> float:
    """Seconds until every worker's duplicate ranker is built: workers build it in the
    background from their start (idea pages go out without related ideas meanwhile), and
    /similar waits for it."""
    return first_use(url + "/similar?title=warm%20up")


def combine(slices: list[dict]) -> dict:
    """Figures of several slices of one measurement: throughput over the whole time, the
    median of the medians, and the worst p99 (percentiles of slices cannot be merged exactly,
    so the reported p99 errs on the slow side)."""
    requests = sum(s["requests"] for s in slices)
    seconds = sum(s["duration_us"] for s in slices) / 1e6
    p50s = sorted(s["p50"] for s in slices)
    return {"requests": requests, "rps": requests / seconds,
            "errors": sum(s["errors"] for s in slices), "p50": p50s[len(p50s) // 2],
            "p95": max(s["p95"] for s in slices), "p99": max(s["p99"] for s in slices),
            "max": max(s["max"] for s in slices)}


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def reindex_now(data: DataSet) -> float:
    """Seconds of ``flask forum reindex`` on a scratch copy of the set, with this run's code
    (the figure recorded when the set was generated is that of the code of that day)."""
    scratch = DATA / "reindex-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(data.folder, scratch, ignore=shutil.ignore_patterns("search-index"))
    try:
        started = time.monotonic()
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "forum", "reindex"], cwd=ROOT,
                       env={**os.environ, "FORUM_INSTANCE_PATH": str(scratch)}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return round(time.monotonic() - started, 1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def forum_check(folder: Path) -> str:
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "forum", "check"], cwd=ROOT,
                            env={**os.environ, "FORUM_INSTANCE_PATH": str(folder)},
                            capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr


# --- the run ----------------------------------------------------------------------------------

def run() -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gunicorn.log").write_text("")
    ensure_wrk()
    sets = datasets()
    for data in sets.values():
        ensure_data(data)
        upgrade(data.folder)
    started = time.time()
    load_before = load_average()
    all_scenarios = scenarios(sets)
    raw: dict[str, dict] = {}
    adjacent: dict[str, dict] = {}
    extra: dict = {}
    write_lua = 'request = function() return wrk.format("POST", "/write", HEADERS, "") end\n'
    with contextlib.ExitStack() as stack:
        # The baselines stay up for the whole run and each scenario is measured right after
        # its baseline: on a shared machine the load changes from minute to minute, and a ratio
        # of two figures taken a minute apart would measure the neighbours.
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-write-")))
        from bench.baseline import create_write_table

        create_write_table(folder / "write.db")
        read_url, _ = stack.enter_context(serve("bench.baseline:read_app", {}))
        write_url, _ = stack.enter_context(
            serve("bench.baseline:write_app", {"BENCH_WRITE_DB": str(folder / "write.db")}))
        read, write = Scenario("read", "", "", "read"), Scenario("write", "", "", "write",
                                                                    lua=write_lua)
        wrk(read_url, read, {}, WARMUP)
        wrk(write_url, write, {}, WARMUP)
        baselines = {
            "read": lambda: wrk(read_url, read, {}, DURATION // SLICES),
            "write": lambda: wrk(write_url, write, {}, DURATION // SLICES),
        }

        def measure_pair(url: str, scenario: Scenario, headers: dict[str, str]) -> None:
            # Slices of baseline and scenario alternate, so that a burst of the neighbours'
            # load falls on both sides of the ratio.
            print(f"  {scenario.name} (and its baseline)…", flush=True)
            # The warm-up reaches every worker: with the scenario's own two connections, both
            # could land on one worker and leave the other's first search (its searcher opened,
            # the page's template compiled: 255 ms) in a measured slice, as its p99.
            wrk(url, replace(scenario, connections=max(scenario.connections or CONNECTIONS,
                                                       CONNECTIONS)), headers, WARMUP)
            slices = []
            for _ in range(SLICES):
                slices.append((baselines[scenario.baseline](), wrk(url, scenario, headers,
                                                                   DURATION // SLICES)))
            adjacent[scenario.name] = combine([b for b, _s in slices])
            raw[scenario.name] = combine([s for _b, s in slices])

        by_server: dict[str, list[Scenario]] = {}
        for scenario in all_scenarios:
            by_server.setdefault(scenario.server, []).append(scenario)
        for server, group in by_server.items():
            kind, key = server.split(":", 1)
            data = sets[key]
            meta = data.meta()
            # Reads run on the cached set as it is; writes on a scratch copy, so that every
            # run reads the same data.
            reads = [s for s in group if s.baseline == "read"]
            writes = [s for s in group if s.baseline == "write"]
            if reads:
                with serve("wsgi:app", {"FORUM_INSTANCE_PATH": str(data.folder),
                                        **NO_RATE_LIMITS}) as (url, process):
                    cookie = None
                    # Fresh workers first: what their first visitors wait, and when their
                    # duplicate rankers are built. Every scenario is then measured on warm
                    # workers; before this, the first one ran beside two ranker builds.
                    for scenario in reads:
                        if scenario.first_use:
                            extra.setdefault("first_use_s", {})[scenario.name] = first_use(
                                url + scenario.first_use)
                            extra.setdefault("ranker_ready_s", {})[scenario.name] = \
                                ranker_ready(url)
                    ranker_ready(url)
                    for scenario in reads:
                        headers = {}
                        if scenario.signed_in:
                            cookie = cookie or sign_in(url, meta["customer_email"],
                                                       meta["password"])[0]
                            headers["Cookie"] = cookie
                        measure_pair(url, scenario, headers)
                    if key == "big":
                        extra["worker_memory_after_reads"] = worker_memory(process)
            if writes:
                scratch = DATA / "scratch"
                shutil.rmtree(scratch, ignore_errors=True)
                shutil.copytree(data.folder, scratch)
                try:
                    app = {"forum": "wsgi:app", "floor": "bench.floor:app"}[kind]
                    with serve(app, {"FORUM_INSTANCE_PATH": str(scratch),
                                     **NO_RATE_LIMITS}) as (url, process):
                        ready = ranker_ready(url)
                        if kind == "forum":
                            extra["write_workers_ready_s"] = ready
                        cookie, token = sign_in(url, meta["customer_email"], meta["password"])
                        headers = {"Cookie": cookie, "X-CSRFToken": token,
                                   "Accept": "application/json",
                                   "Content-Type": "application/x-www-form-urlencoded"}
                        for scenario in writes:
                            measure_pair(url, scenario, headers)
                        if kind == "forum":
                            extra["worker_memory_after_writes"] = worker_memory(process)
                    if kind == "forum":
                        print("  flask forum check…", flush=True)
                        extra["check_after_votes"] = forum_check(scratch)
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)

    outcomes = []
    for scenario in all_scenarios:
        figures, base = raw[scenario.name], adjacent[scenario.name]
        outcomes.append(Outcome(
            name=scenario.name, what=scenario.what, requests_per_s=round(figures["rps"], 1),
            ratio=round(figures["rps"] / base["rps"], 3),
            baseline_requests_per_s=round(base["rps"], 1),
            p50_ms=round(figures["p50"] / 1000, 1), p95_ms=round(figures["p95"] / 1000, 1),
            p99_ms=round(figures["p99"] / 1000, 1),
            errors=figures["errors"], requests=figures["requests"],
            baseline=scenario.baseline, target=scenario.target,
        ))
    # Both servers' workers: the readers' served every page, search and similar ideas; the
    # writers' built their rankers and took the votes. The larger is held to the target.
    after_reads = [p["Rss"] for p in extra.get("worker_memory_after_reads", [])]
    after_writes = [p["Rss"] for p in extra.get("worker_memory_after_writes", [])]
    summary = {kind: [o.baseline_requests_per_s for o in outcomes if o.baseline == kind]
               for kind in ("read", "write")}
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "seconds": round(time.time() - started),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": load_before, "load_average_after": load_average()},
        "settings": {"connections": CONNECTIONS, "duration_s": DURATION, "warmup_s": WARMUP,
                     "gunicorn": "bench/gunicorn.conf.py", "load_generator": "wrk -t1"},
        "data_sets": {k: {"ideas": d.ideas, **{x: d.meta()[x] for x in
                                                ("votes", "comments", "users")}}
                      for k, d in sets.items()},
        "baselines": {kind: {"requests_per_s_each_scenario": values,
                             "min": min(values), "max": max(values)}
                      for kind, values in summary.items() if values},
        "scenarios": [asdict(o) for o in outcomes],
        "memory": {"worker_rss_mb": after_reads + after_writes,
                   "after_reads": after_reads, "after_writes": after_writes,
                   "parts_after_reads": extra.get("worker_memory_after_reads", []),
                   "parts_after_writes": extra.get("worker_memory_after_writes", []),
                   "target": "< 200 MB per worker"},
        "check_after_votes": extra.get("check_after_votes"),
        "first_use_s": extra.get("first_use_s", {}),
        "ranker_ready_s": extra.get("ranker_ready_s", {}),
        "write_workers_ready_s": extra.get("write_workers_ready_s"),
        "reindex_s": {k: d.meta().get("reindex_seconds") for k, d in sets.items()},
    }


def table(report: dict) -> str:
    base = report["baselines"]
    lines = [
        f"Run of {report['when']} on {report['machine']['cpus']} CPUs, "
        f"{report['settings']['connections']} connections, {report['settings']['duration_s']} s "
        f"per scenario (load average {report['machine']['load_average_before']} before, "
        f"{report['machine']['load_average_after']} after).",
        f"Each scenario alternated with its baseline ({SLICES} slices each): bare read "
        f"{base['read']['min']} to "
        f"{base['read']['max']} req/s, bare write {base['write']['min']} to "
        f"{base['write']['max']} req/s over the run.",
        "",
        "| scenario | req/s | baseline req/s | ratio | p50 ms | p95 ms | p99 ms | errors "
        "| target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in report["scenarios"]:
        lines.append(f"| {s['what']} | {s['requests_per_s']} | "
                     f"{s['baseline_requests_per_s']} (bare {s['baseline']}) | {s['ratio']} | "
                     f"{s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['errors']} | "
                     f"{s['target']} |")
    memory = report["memory"]
    rss = memory["worker_rss_mb"]
    lines.append(f"| memory (RSS) of one worker after the run | {max(rss) if rss else '?'} MB "
                 f"(readers' workers: {memory.get('after_reads', rss)}, writers': "
                 f"{memory.get('after_writes', [])}) | | | | | | | < 200 MB |")
    parts = memory.get("parts_after_reads", []) + memory.get("parts_after_writes", [])
    lines.append("")
    if parts:
        described = "; ".join(
            f"{p.get('RssAnon', '?')} MB own + {p.get('RssFile', '?')} MB of mapped files "
            f"(PSS {p.get('Pss', '?')} MB)" for p in parts)
        lines.append(f"Workers' resident memory, readers' then writers': {described}. Mapped "
                     "files (code, the search index) are shared with the other workers and the "
                     "page cache; PSS charges each worker its share of them.")
        lines.append("")
    lines.append(f"`flask forum check` after the votes: {report['check_after_votes']}")
    for name, seconds in report.get("first_use_s", {}).items():
        ready = report.get("ranker_ready_s", {}).get(name)
        lines.append(f"First use of `{name}` in fresh workers: {seconds} s"
                     + (f"; their duplicate rankers (built in the background from worker start) "
                        f"were ready {ready} s later." if ready is not None else "."))
    if report.get("write_workers_ready_s") is not None:
        lines.append("The votes' server (a scratch copy, fresh workers) was measured once its "
                     f"workers' rankers were built, {report['write_workers_ready_s']} s after "
                     "its start.")
    lines.append("Every scenario ran after waiting for the workers' duplicate rankers (eight "
                 "/similar requests at once, each waiting for its worker's ranker).")
    for key, seconds in report.get("reindex_s", {}).items():
        ideas = report["data_sets"][key]["ideas"]
        lines.append(f"Reindex of {ideas:,} ideas (when the set was generated): {seconds} s "
                     "(target < 90 s at 100,000).")
    for key, seconds in report.get("reindex_now_s", {}).items():
        ideas = report["data_sets"][key]["ideas"]
        lines.append(f"Reindex of {ideas:,} ideas in this run (`flask forum reindex` on a copy, "
                     f"this code): {seconds} s (target < 90 s at 100,000).")
    if report.get("shipping"):
        from bench import ship

        lines += ship.table_lines(report["shipping"])
    return "\n".join(lines)


def main() -> None:
    report = run()
    # After the load runs, on its own scratch copy: shipping to every voter and delivering.
    from bench import ship

    report["shipping"] = ship.from_environment(datasets()["big"])
    print("  flask forum reindex on a copy of the big set…", flush=True)
    try:
        report["reindex_now_s"] = {"big": reindex_now(datasets()["big"])}
    except subprocess.CalledProcessError as error:
        # The other figures are still worth writing; the table says the reindex failed.
        report["reindex_now_s"] = {"big": f"failed ({error})"}
    # Search and similar ideas against SQLite FTS5 on the same documents, in process (issue #9).
    from bench import fts5

    print("  search engines: the forum's and SQLite FTS5 (bench/fts5.py)…", flush=True)
    report["fts5"] = fts5.compare(datasets()["big"].folder)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=1) + "\n")
    text = table(report) + "\n\n" + fts5.table(report["fts5"])
    (RESULTS / "latest.md").write_text(text + "\n")
    print()
    print(text)


if __name__ == "__main__":
    main()
