"""The FTS5 comparison (bench/fts5.py) runs end to end on a small generated set."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_both_engines_find_the_idea_whose_title_is_searched(tmp_path):
    data = tmp_path / "set"
    subprocess.run([sys.executable, "-m", "bench.generate", "--ideas", "300", "--votes", "3000",
                    "--comments", "200", "--users", "30", "--out", str(data)], cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    with sqlite3.connect(f"file:{data / 'forum.db'}?mode=ro", uri=True) as con:
        idea_id, title = con.execute(
            "SELECT i.id, i.title FROM ideas i JOIN boards b ON b.id = i.board_id "
            "WHERE b.visibility = 'public' AND i.hidden_at IS NULL "
            "AND i.merged_into_id IS NULL ORDER BY i.id LIMIT 1").fetchone()
        indexed = con.execute("SELECT count(*) FROM ideas WHERE hidden_at IS NULL").fetchone()[0]
    done = subprocess.run([sys.executable, "-m", "bench.fts5", "--data", str(data), "--query",
                           title, "--rounds", "2", "--similar", "8", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    assert result["documents"] == indexed  # hidden ideas are not indexed
    found = result["search"]["per_query"][title]
    assert idea_id in found["whoosh_top5"] and idea_id in found["fts5_top5"]
    assert found["whoosh_total"] >= 1 and found["fts5_total"] >= 1
    for kind in ("search", "similar"):
        figures = result[kind]
        assert figures["samples"] > 0
        assert 0 < figures["whoosh"]["p50_ms"] <= figures["whoosh"]["p95_ms"]
        assert 0 < figures["fts5"]["p50_ms"] <= figures["fts5"]["p95_ms"]
        assert figures["top5_overlap"] is not None
    cached = result["search"]["whoosh_cached"]
    assert 0 < cached["p50_ms"] <= cached["p95_ms"]
    assert result["fts5_build_s"] >= 0 and result["fts5_db_mb"] > 0
