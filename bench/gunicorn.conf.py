"""gunicorn settings of the benchmark: the forum and both baselines are served with this file
(`gunicorn -c bench/gunicorn.conf.py wsgi:app`), so ratios compare apps, not server settings. A
deployment can start from it. Override with command-line options, GUNICORN_CMD_ARGS or
WEB_CONCURRENCY."""

import gc
import os
import threading

bind = "127.0.0.1:8000"  # behind a reverse proxy; `--bind` overrides
# Pages are CPU-bound Python and SQLite reads never wait on a network: one process per core
# keeps every core busy without paying for the context switches of a deeper pool. Threads let a
# worker keep connections alive and overlap the moments a request waits for SQLite's write lock.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
worker_class = "gthread"
threads = 4
keepalive = 5
# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. On one shared socket the worker that wakes first takes most of them,
# and kept-alive connections stay where they landed: 32 connections were seen split 32/0,
# 31/1, 29/3, and a board page then served 714 requests/s instead of 2,200. (A worker that
# dies resets the connections waiting in its own backlog, which a shared socket would have
# left to the others; gunicorn starts a new one at once.)
reuse_port = True
timeout = 30
# Import the app once in the master: workers start at once (a restarted one too) and share the
# imported code's memory pages. create_app opens no database connection, so none is shared.
preload_app = True


# Python's full garbage collection walks every container object the process holds, and stops
# all of a worker's threads while it does: in a forum worker (the imported app, then the
# duplicate ranker) 145,000 of them, 73 to 118 ms a pass, every 20 to 60 s under load, added
# to whatever requests were in flight. Objects that live as
# long as the process are moved out of its reach with gc.freeze(): in the master once the
# app is imported (the workers inherit that), and in each worker once its ranker is built.
# A collection just before each freeze, so that little garbage is frozen with them (what a
# request in flight holds at that moment is, once: a few hundred objects). What requests
# create afterwards is collected as before.
def when_ready(server):
    gc.collect()
    gc.freeze()


def post_worker_init(worker):
    """Start building the duplicate ranker as soon as a worker is up, in the background: its
    first build analyses every idea, and the first visitors should not wait for it."""
    from forum.search import service

    app = worker.wsgi
    if "SEARCH_BACKEND" in getattr(app, "config", {}):  # the forum, not a bare baseline app
        backend = service.backend(app)
        backend.warm_up()
        threading.Thread(target=_freeze_when_built, args=(backend,), name="gc-freeze",
                         daemon=True).start()


def _freeze_when_built(backend) -> None:
    # A build that failed is started again by this call (and by the next page that needs it).
    while not backend.warm_up(wait=600):
        pass
    gc.collect()
    gc.freeze()
