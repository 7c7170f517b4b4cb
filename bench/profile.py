"""Where a scenario's time goes: ``python -m bench.profile board_top_anonymous``.

Serves the big data set as ``make bench`` does, drives the scenario with wrk and samples one
gunicorn worker with py-spy (``pip install -e '.[bench]'``) meanwhile. The worker runs one thread
while it is sampled: with several, a thread waiting for the GIL is counted as busy wherever it
waits, and py-spy's --gil misses most samples on Python 3.11. Prints the share of
samples spent inside the forum's own functions and the libraries, and writes the collapsed
stacks to ``bench/results/profile-<scenario>.txt`` (flame-graph input).
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from bench import run

# Frames whose inclusive share is worth reading, in the order of a request.
MARKERS = {
    "the Flask app (everything below is part of it)": ("wsgi_app (flask/app.py",),
    "flask-login: load the person": ("flask_login/",),
    "CSRF (flask-wtf)": ("flask_wtf/",),
    "SQLAlchemy (ORM, Core, driver)": ("sqlalchemy/",),
    "Jinja rendering": ("jinja2/", "templates/"),
    "Babel (dates, translations)": ("babel/", "flask_babel/"),
    "url_for": ("url_for (flask/",),
}
# Leaf frames where the time is spent inside SQLite's C code.
SQLITE_LEAVES = (".do_execute (", ".do_executemany (", ".fetchall (", ".fetchone (",
                 ".do_commit (", ".do_rollback (")


def main(name: str, seconds: int = 8) -> None:
    py_spy = shutil.which("py-spy") or str(run.BIN / "py-spy")
    sets = run.datasets()
    scenario = next(s for s in run.scenarios(sets) if s.name == name)
    data = sets[scenario.server.split(":", 1)[1]]
    meta = data.meta()
    folder = data.folder
    if scenario.baseline == "write":
        folder = run.DATA / "scratch"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(data.folder, folder)
    out = run.RESULTS / f"profile-{name}.txt"
    try:
        env = {"FORUM_INSTANCE_PATH": str(folder), "GUNICORN_CMD_ARGS": "--threads 1"}
        with run.serve("wsgi:app", env) as (url, process):
            headers: dict[str, str] = {}
            if scenario.signed_in:
                cookie, token = run.sign_in(url, meta["customer_email"], meta["password"])
                headers = {"Cookie": cookie, "X-CSRFToken": token,
                           "Accept": "application/json",
                           "Content-Type": "application/x-www-form-urlencoded"}
            run.wrk(url, scenario, headers, 2)
            worker = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0]
            load = threading.Thread(target=run.wrk, args=(url, scenario, headers, seconds + 2))
            load.start()
            subprocess.run([py_spy, "record", "--pid", worker, "--duration", str(seconds),
                            "--format", "raw", "--output", str(out)],
                           check=True, capture_output=True)
            load.join()
    finally:
        if scenario.baseline == "write":
            shutil.rmtree(folder, ignore_errors=True)
    report(out)


def report(path: Path) -> None:
    shares: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        frames = stack.split(";")
        if frames[-1].startswith(("select ", "EpollSelector.select", "_worker ", "wait ")):
            continue  # a thread waiting for work, not serving a request
        total += samples
        for label, needles in MARKERS.items():
            if any(needle in stack for needle in needles):
                shares[label] += samples
        if any(leaf in frames[-1] for leaf in SQLITE_LEAVES):
            shares["of which inside SQLite (C)"] += samples
    print(f"{total} busy samples of one worker ({path}):")
    for label in [*MARKERS, "of which inside SQLite (C)"]:
        print(f"  {label:50s} {100 * shares[label] / max(total, 1):5.1f}%")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8)
