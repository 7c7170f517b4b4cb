"""The forum with one view added that does nothing: what any signed-in write request costs here
before it does its work (``gunicorn bench.floor:app``).

``POST /bench/floor`` goes through everything a vote goes through before the vote's own code:
the security wrappers, the session cookie, CSRF, the rate limiter's and the page cache's hooks,
loading the signed-in person, and a JSON answer. Marked ``reads_first`` like a vote, it reads
the person without queueing for the write lock and takes its turn among the process's votes.
It reads no idea and writes nothing, so its ratio to the bare write (``bench.run``'s
``post_floor`` scenario) is the most a vote could reach with this stack, whatever the vote's
own statements cost. Only the benchmark serves it.
"""

from __future__ import annotations

import functools

from flask import Flask, jsonify
from flask_login import current_user, login_required

from forum import create_app, dbtuning


@dbtuning.reads_first  # as a vote: the person is read without queueing for the write lock
@login_required
def floor():
    return jsonify({"id": current_user.id})


def add_floor(app: Flask) -> Flask:
    app.add_url_rule("/bench/floor", "bench_floor", floor, methods=["POST"])
    return app


@functools.cache
def _app() -> Flask:
    return add_floor(create_app())


def __getattr__(name: str):
    # ``bench.floor:app`` for gunicorn, built on first use: importing this module (a test, the
    # profiler) builds no app from the environment.
    if name == "app":
        return _app()
    raise AttributeError(name)
