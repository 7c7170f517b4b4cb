"""The duplicate benchmark runs end to end through the product (on a tiny file here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REPORTS = [
    {"id": "X-1", "title": "Crash when the table name has a dash", "body": "NPE in the parser.",
     "created": "2020-01-01T10:00:00Z", "duplicate_of": None},
    {"id": "X-2", "title": "Support window functions", "body": "",
     "created": "2020-01-02T10:00:00Z", "duplicate_of": None},
    {"id": "X-3", "title": "ab", "body": "A title the product refuses.",
     "created": "2020-01-03T10:00:00Z", "duplicate_of": None},
    {"id": "X-4", "title": "Parser crashes on table names with dashes " + "and more " * 12,
     "body": "NullPointerException", "created": "2020-01-04T10:00:00Z", "duplicate_of": "X-1"},
]


def test_benchmark_reports_the_figures(tmp_path):
    data = tmp_path / "reports.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in REPORTS) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bench.duplicates", "--data", str(data),
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"recall@1", "recall@5", "recall@10", "mrr", "queries", "p50_ms", "p95_ms"} <= set(
        result)
    assert result["queries"] == 1 and result["skipped"] == 1 and result["indexed"] == 3
    # The long title was cut to fit the product and still finds its original.
    assert result["recall@1"] == 1.0 and result["mrr"] == 1.0
