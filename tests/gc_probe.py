"""The forum as gunicorn serves it (``wsgi:app``), plus one route telling how many objects the
worker's garbage collector leaves alone (``gc.freeze``) and whether its duplicate ranker is
built: what tests/search/test_bench_gunicorn_conf.py asks a real worker."""

from __future__ import annotations

import gc
import os

from forum.search import service
from wsgi import app

# What the worker inherited from the master, the moment it was forked.
_at_fork: dict[str, int] = {}
os.register_at_fork(after_in_child=lambda: _at_fork.update(frozen=gc.get_freeze_count()))


@app.get("/test/gc")
def gc_state():
    return {"frozen_at_fork": _at_fork.get("frozen"), "frozen": gc.get_freeze_count(),
            "ranker": service.backend(app).warm_up(), "pid": os.getpid()}
