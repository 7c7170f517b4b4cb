"""The shipping benchmark runs end to end through the product, on a tiny generated set: gunicorn,
a real form POST, `flask forum deliver` processes and an SMTP sink."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VOTERS = 50


@pytest.mark.slow
def test_every_voter_told_gets_one_message_at_the_sink(tmp_path):
    data = tmp_path / "ideas-60"
    subprocess.run([sys.executable, "-m", "bench.generate", "--ideas", "60", "--votes", "200",
                    "--comments", "20", "--users", "80", "--out", str(data)],
                   cwd=ROOT, check=True, capture_output=True, timeout=180)
    done = subprocess.run([sys.executable, "-m", "bench.ship", "--data", str(data),
                           "--voters", str(VOTERS), "--deliverers", "1,2", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["problems"] == []
    assert [d["deliverers"] for d in report["deliveries"]] == [1, 2]
    for n, (shipped, delivery) in enumerate(zip(report["ships"], report["deliveries"],
                                                strict=True), start=1):
        # The first 50 people vote (with whoever voted before); all but the shipper are told.
        assert shipped["voters"] >= VOTERS
        told = shipped["voters"] - 1
        assert shipped["notified"] == told
        assert shipped["outbox_before"] == {"pending": told}
        assert delivery["received"] == delivery["distinct_recipients"] == told
        assert delivery["distinct_messages"] == told and delivery["received_twice"] == 0
        # The whole outbox: the first idea's messages, then the second's, all sent.
        assert delivery["outbox_after"] == {"sent": told * n}
        assert shipped["request_s"] > 0 and delivery["messages_per_s"] > 0
    # The source set is left as it was: the run works on a scratch copy and removes it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ideas-60"]
