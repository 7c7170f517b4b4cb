"""How well the product finds duplicates, on real human-labelled duplicate reports.

    python -m bench.duplicates --data ../shared/data/duplicates/hive-bugs.jsonl [--json]
        [--postgres | --database-url URL] [--backend whoosh|postgres]

By default the instance is a temporary SQLite file (so the Whoosh backend). ``--postgres``
starts a throwaway PostgreSQL cluster as the test suite does (tests/databases.py; needs the
server binaries, ``make postgres-deps``) and ``--database-url`` uses an empty database you
provide; either way the search backend is the one the database selects (``postgres``) unless
``--backend`` says otherwise.

Loads the file (format: ``../shared/data/duplicates/README.md``) into a fresh temporary instance
through the product's own code: migrations, ``submit_idea`` for every report (dated as the
report), commits in batches, each indexed by the after-commit indexing. Then, for each report
with ``duplicate_of``, it asks ``similar_ideas`` (the code behind the similar-ideas endpoint)
for the ideas posted before that report, and scores the ranking as the duplicate-detection
literature does: a hit at k when any earlier member of the report's group is in the top k;
MRR over the top 10 (a miss counts 0); the time of each call, database included.

The product's own limits apply: a title longer than 120 characters is cut at a word and the
rest moves to the start of the description (as a person would have to write it), and a report
whose title is shorter than 3 characters is refused, so it is skipped (and counted).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

CUTOFFS = (1, 5, 10)
LIMIT = 10
BATCH = 2000


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    body: str
    created: datetime
    duplicate_of: str | None


def load_reports(path: Path) -> list[Report]:
    reports = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            reports.append(Report(
                key=str(row["id"]), title=row.get("title") or "", body=row.get("body") or "",
                created=datetime.fromisoformat(row["created"].replace("Z", "+00:00")),
                duplicate_of=row.get("duplicate_of"),
            ))
    return reports


def fit(report: Report, title_max: int) -> tuple[str, str]:
    """The title and description a person could post for this report."""
    title = " ".join(report.title.split())
    if len(title) <= title_max:
        return title, report.body
    cut = title[: title_max - 1].rsplit(" ", 1)[0]
    return cut + "…", f"…{title[len(cut):].strip()}\n\n{report.body}".strip()


def _percentile(values: Sequence[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def run(data: Path, database_url: str | None = None,
        backend: str | None = None) -> dict[str, float | int | str]:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from forum import create_app
    from forum.accounts import services as accounts
    from forum.errors import ValidationError
    from forum.extensions import db
    from forum.ideas import services as ideas
    from forum.ideas.models import Board
    from forum.search import service

    reports = load_reports(data)
    with tempfile.TemporaryDirectory(prefix="forum-dup-bench-") as folder:
        app = create_app({"INSTANCE_PATH": folder,
                          "DATABASE_URL": database_url or f"sqlite:///{folder}/forum.db",
                          "SEARCH_BACKEND": backend,
                          "SECRET_KEY": "benchmark", "SERVER_NAME": "bench.invalid",
                          "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
        with app.app_context():
            upgrade()
            author = accounts.register(email="reporter@example.com", name="Reporter",
                                       password=None)
            board = db.session.scalar(select(Board).order_by(Board.position))
            db.session.commit()
            idea_of: dict[int, int] = {}   # line number -> idea id
            posted: list[tuple[int, str, str]] = []
            skipped = 0
            start = time.perf_counter()
            for number, report in enumerate(reports):
                title, body = fit(report, ideas.TITLE_MAX)
                try:
                    idea = ideas.submit_idea(author, title=title, body=body, board=board)
                except ValidationError:
                    skipped += 1
                    continue
                # History replayed: the idea is as old as the report.
                idea.created_at = idea.updated_at = idea.last_activity_at = report.created
                idea_of[number] = idea.id
                posted.append((number, title, body))
                if len(posted) % BATCH == 0:
                    db.session.commit()
            db.session.commit()
            load_seconds = time.perf_counter() - start
            indexed = service.backend().count()

            queries = _queries(reports, idea_of, posted)
            hits = dict.fromkeys(CUTOFFS, 0)
            reciprocal = 0.0
            latencies: list[float] = []
            with app.test_request_context("/similar"):
                # The first call builds the ranker's arrays: not a query latency.
                service.similar_ideas("warm up", "", None, limit=LIMIT)
                for idea_id, title, body, created, relevant in queries:
                    begin = time.perf_counter()
                    found = service.similar_ideas(title, body, None, limit=LIMIT,
                                                  exclude_ids={idea_id}, created_before=created)
                    latencies.append((time.perf_counter() - begin) * 1000)
                    ranked = [item["id"] for item in found]
                    position = next((i for i, found_id in enumerate(ranked, 1)
                                     if found_id in relevant), None)
                    if position is not None:
                        reciprocal += 1 / position
                        for k in CUTOFFS:
                            hits[k] += position <= k
            service.close(app)
            db.session.remove()
            db.engine.dispose()
    n = max(len(queries), 1)
    result: dict[str, float | int | str] = {f"recall@{k}": round(hits[k] / n, 4)
                                            for k in CUTOFFS}
    result.update({
        "database": "postgresql" if (database_url or "").startswith("postgresql") else "sqlite",
        "backend": app.config["SEARCH_BACKEND"],
        "mrr": round(reciprocal / n, 4),
        "queries": len(queries),
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "reports": len(reports),
        "skipped": skipped,
        "indexed": indexed,
        "load_seconds": round(load_seconds, 1),
    })
    return result


def _queries(reports: Sequence[Report], idea_of: dict[int, int],
             posted: Sequence[tuple[int, str, str]]
             ) -> list[tuple[int, str, str, datetime, frozenset[int]]]:
    """(idea id, title, body, created, ids of earlier ideas of its group), in file order."""
    groups: dict[str, list[int]] = {}
    for number, report in enumerate(reports):
        if number in idea_of:
            groups.setdefault(report.duplicate_of or report.key, []).append(number)
    queries = []
    for number, title, body in posted:
        report = reports[number]
        if report.duplicate_of is None:
            continue
        relevant = frozenset(idea_of[m] for m in groups.get(report.duplicate_of, ())
                             if reports[m].created < report.created)
        if relevant:
            queries.append((idea_of[number], title, body, report.created, relevant))
    return queries


@contextmanager
def _throwaway_postgres() -> Iterator[str]:
    """A database in a new cluster, as the PostgreSQL test run makes one."""
    import psycopg

    from tests.databases import Cluster, Unavailable, server_bindir

    bindir = server_bindir()
    if bindir is None:
        raise Unavailable("no PostgreSQL server binaries: run `make postgres-deps` as root")
    cluster = Cluster(bindir)
    try:
        with psycopg.connect(cluster.url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("CREATE DATABASE forum_bench")
        yield cluster.url.rsplit("/", 1)[0] + "/forum_bench"
    finally:
        cluster.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="JSON lines of reports")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty database to load (default: SQLite)")
    where.add_argument("--postgres", action="store_true",
                       help="load into a throwaway PostgreSQL cluster, removed afterwards")
    parser.add_argument("--backend", choices=("whoosh", "postgres"),
                        help="search backend (default: the one the database selects)")
    args = parser.parse_args(argv)
    if args.postgres:
        with _throwaway_postgres() as url:
            result = run(args.data, url, args.backend)
    else:
        result = run(args.data, args.database_url, args.backend)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['database']} database, {result['backend']} search backend")
        print(f"{result['reports']} reports ({result['skipped']} refused by the product), "
              f"{result['indexed']} indexed, loaded in {result['load_seconds']} s")
        print(f"R@1 {result['recall@1']:.3f}  R@5 {result['recall@5']:.3f}  "
              f"R@10 {result['recall@10']:.3f}  MRR {result['mrr']:.3f}  "
              f"queries {result['queries']}  p50 {result['p50_ms']:.1f} ms  "
              f"p95 {result['p95_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
