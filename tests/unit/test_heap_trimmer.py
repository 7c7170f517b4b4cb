"""The heap trimmer hands freed memory back once after a burst of searches, and not when idle."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from forum.search.base import HeapTrimmer, _glibc


def _resident_anonymous_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    pytest.skip("no /proc/self/status here")


def test_a_burst_is_trimmed_once_a_moment_later_and_an_idle_process_never():
    calls: list[float] = []
    trimmer = HeapTrimmer(lambda pad: calls.append(time.monotonic()), delay=0.05)
    started = time.monotonic()
    for _ in range(20):
        trimmer.soon()
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 1 and calls[0] - started >= 0.05
    time.sleep(0.3)
    assert len(calls) == 1, "nothing happened since: no trim"
    trimmer.soon()
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 2


def test_other_releases_run_with_each_trim():
    order: list[str] = []
    trimmer = HeapTrimmer(lambda pad: order.append("trim"), delay=0.01)
    trimmer.also(lambda: order.append("unmap"))
    trimmer.soon()
    deadline = time.monotonic() + 5
    while len(order) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert order == ["trim", "unmap"]


def test_without_malloc_trim_nothing_runs():
    before = {t.name for t in threading.enumerate()}
    HeapTrimmer(None).soon()
    assert "heap-trimmer" not in {t.name for t in threading.enumerate()} - before


def test_malloc_trim_gives_back_what_a_thread_freed():
    """What glibc keeps: a thread's freed blocks below its top, in that thread's arena."""
    trim = _glibc("malloc_trim")
    if trim is None:
        pytest.skip("not glibc")
    kept = []

    def work() -> None:
        blocks = [bytearray(100_000) for _ in range(600)]  # 60 MB, each block touched
        kept.append(bytearray(100_000))  # still in use, above the freed ones
        del blocks

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    before = _resident_anonymous_kb()
    trim(0)
    assert before - _resident_anonymous_kb() > 40_000, "at least 40 of the 60 MB go back"
