"""A generated benchmark set is a site `flask forum check` finds nothing wrong with: its stored
counts are what the product would have stored (a drift would be repaired in the middle of a
benchmark and counted against it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def test_a_generated_set_has_no_drift(tmp_path):
    data = tmp_path / "set"
    subprocess.run([sys.executable, "-m", "bench.generate", "--ideas", "400", "--votes", "4000",
                    "--comments", "1200", "--users", "40", "--out", str(data)], cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    check = subprocess.run([str(FLASK), "--app", "wsgi", "forum", "check"], cwd=ROOT,
                           env={**os.environ, "FORUM_INSTANCE_PATH": str(data)},
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No drift" in check.stdout, check.stdout
