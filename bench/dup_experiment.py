"""Duplicate-detection benchmark on real, human-labelled duplicate bug reports.

    python -m bench.dup_experiment --data /work/shared/data/duplicates/hive-bugs.jsonl [--json]

Loads the reports into a fresh temporary :class:`WhooshBackend`, then asks ``similar()`` for each
labelled duplicate, restricted to the reports created before it, and scores the ranking the way
the duplicate-detection literature does (recall-rate@k: a hit when any earlier member of the
duplicate group is in the top k; MRR over the top 10, a miss counting 0).

Only titles, bodies and creation times reach the backend: labels are used for scoring only, and
the ``project`` and id fields are ignored.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from forum.search.base import IdeaDocument
from forum.search.duplicates import RankerWeights
from forum.search.whoosh_backend import WhooshBackend

CUTOFFS = (1, 5, 10)
LIMIT = 10


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    body: str
    created: datetime
    duplicate_of: str | None


@dataclass(frozen=True)
class Query:
    """One labelled duplicate: what to ask, and which earlier documents count as a hit."""

    doc_id: int
    title: str
    body: str
    created: datetime
    relevant: frozenset[int]


def load_reports(path: Path) -> list[Report]:
    reports = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            reports.append(Report(key=row["id"], title=row["title"] or "", body=row["body"] or "",
                                  created=datetime.fromisoformat(row["created"]
                                                                 .replace("Z", "+00:00")),
                                  duplicate_of=row.get("duplicate_of")))
    return reports


def build_queries(reports: Sequence[Report]) -> list[Query]:
    """Queries in file (creation) order; relevant = earlier members of the same group."""
    groups: dict[str, list[int]] = {}
    for number, report in enumerate(reports):
        groups.setdefault(report.duplicate_of or report.key, []).append(number)
    queries = []
    for number, report in enumerate(reports):
        if report.duplicate_of is None:
            continue
        earlier = frozenset(m for m in groups[report.duplicate_of]
                            if reports[m].created < report.created)
        if earlier:
            queries.append(Query(doc_id=number, title=report.title, body=report.body,
                                 created=report.created, relevant=earlier))
    return queries


def to_documents(reports: Sequence[Report]) -> list[IdeaDocument]:
    # Ids are line numbers: the report keys carry nothing the method may use.
    return [IdeaDocument(id=number, title=r.title, body=r.body, created_at=r.created)
            for number, r in enumerate(reports)]


Ranker = Callable[[Query], Sequence[int]]


def score_queries(queries: Sequence[Query], rank: Ranker) -> dict[str, float]:
    """Recall@k, MRR (top 10) and latency of ``rank`` (ids best first) over ``queries``."""
    hits = {k: 0 for k in CUTOFFS}
    reciprocal = 0.0
    latencies: list[float] = []
    for query in queries:
        start = time.perf_counter()
        ranked = list(rank(query))[:LIMIT]
        latencies.append((time.perf_counter() - start) * 1000)
        position = next((i for i, doc in enumerate(ranked, 1) if doc in query.relevant), None)
        if position is None:
            continue
        reciprocal += 1 / position
        for k in CUTOFFS:
            hits[k] += position <= k
    n = max(len(queries), 1)
    result: dict[str, float] = {f"recall@{k}": hits[k] / n for k in CUTOFFS}
    result["mrr"] = reciprocal / n
    result["queries"] = len(queries)
    result["p50_ms"] = _percentile(latencies, 50)
    result["p95_ms"] = _percentile(latencies, 95)
    return result


def _percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def backend_ranker(backend: WhooshBackend) -> Ranker:
    def rank(query: Query) -> list[int]:
        found = backend.similar(query.title, query.body, limit=LIMIT,
                                created_before=query.created, exclude_ids={query.doc_id})
        return [doc_id for doc_id, _ in found]
    return rank


def run(data: Path, weights: RankerWeights | None = None) -> dict[str, Any]:
    reports = load_reports(data)
    queries = build_queries(reports)
    with tempfile.TemporaryDirectory(prefix="dup-bench-") as index_dir:
        backend = WhooshBackend(index_dir, weights=weights)
        try:
            start = time.perf_counter()
            backend.index(to_documents(reports))
            index_seconds = time.perf_counter() - start
            rank = backend_ranker(backend)
            rank(queries[0])  # first call builds the ranker's arrays; not a query latency
            half = len(queries) // 2
            result: dict[str, Any] = dict(score_queries(queries, rank))
            result["first_half"] = score_queries(queries[:half], rank)
            result["second_half"] = score_queries(queries[half:], rank)
        finally:
            backend.close()
    result["documents"] = len(reports)
    result["index_seconds"] = round(index_seconds, 2)
    return result


def _format(result: Mapping[str, Any]) -> str:
    def line(name: str, r: Mapping[str, Any]) -> str:
        return (f"{name:<12} R@1 {r['recall@1']:.3f}  R@5 {r['recall@5']:.3f}  "
                f"R@10 {r['recall@10']:.3f}  MRR {r['mrr']:.3f}  queries {int(r['queries'])}  "
                f"p50 {r['p50_ms']:.1f} ms  p95 {r['p95_ms']:.1f} ms")
    return "\n".join([
        f"{result['documents']} documents indexed in {result['index_seconds']} s",
        line("all", result),
        line("first half", result["first_half"]),
        line("second half", result["second_half"]),
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="JSON lines of bug reports")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-recency", action="store_true",
                        help="disable the recency prior (to measure what it adds)")
    args = parser.parse_args(argv)
    weights = RankerWeights(recency=0.0) if args.no_recency else None
    result = run(args.data, weights)
    print(json.dumps(result, indent=2) if args.json else _format(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
