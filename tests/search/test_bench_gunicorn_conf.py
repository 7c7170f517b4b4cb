"""bench/gunicorn.conf.py, the settings make bench serves with (and a deployment's starting
point), takes what lives as long as a worker out of the garbage collector's full passes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.processes import forum_environment, free_port, gunicorn_flags

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_workers_freeze_the_imported_app_then_their_built_ranker(app, app_config, make_idea,
                                                                   tmp_path):
    for n in range(5):
        make_idea(f"Dark mode for reports, take {n}")

    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = forum_environment(app_config, tmp_path, WEB_CONCURRENCY="1")
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "bench" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", *gunicorn_flags(), "tests.gc_probe:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        states = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/test/gc",
                                            timeout=5) as response:
                    states.append(json.load(response))
            except OSError:
                time.sleep(0.2)
                continue
            if states[-1]["ranker"] and states[-1]["frozen"] > states[0]["frozen_at_fork"]:
                break
            time.sleep(0.2)
        assert states, log.read_text()[-3000:]
        # Frozen in the master once the app was imported: the worker started with it.
        assert states[0]["frozen_at_fork"] > 10_000
        # And again in the worker once its ranker was built.
        assert states[-1]["ranker"], "the ranker was not built within a minute"
        assert states[-1]["frozen"] > states[-1]["frozen_at_fork"], states[-1]
        assert len({s["pid"] for s in states}) == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
