"""Where a scenario's time goes: ``python -m bench.profile board_top_anonymous [REQUESTS]``.

Runs the scenario's requests in process (Flask's test client, on the same generated data as
``make bench``) under cProfile and prints the CPU time per request, the share of it spent in
each library, and the functions with the most time inside them. In process and deterministic,
unlike sampling a gunicorn worker: py-spy gets only a few samples per second on this kind of
virtual machine.
"""

from __future__ import annotations

import collections
import cProfile
import os
import pstats
import re
import shutil
import sys
import time

from bench import run


def _client(folder, meta, signed_in: bool, server: str):
    from bench.floor import add_floor
    from forum import create_app

    app = create_app({"INSTANCE_PATH": str(folder)})
    if server.startswith("floor:"):
        add_floor(app)
    client = app.test_client()
    token = None
    if signed_in:
        token = run._csrf(client.get("/signin").text)
        client.post("/signin", data={"csrf_token": token, "email": meta["customer_email"],
                                     "password": meta["password"]})
        token = run._csrf(client.get("/").text)
    return client, token


def main(name: str, requests: int = 300) -> None:
    sets = run.datasets()
    scenario = next(s for s in run.scenarios(sets) if s.name == name)
    data = sets[scenario.server.split(":", 1)[1]]
    meta = data.meta()
    folder = data.folder
    if scenario.baseline == "write":
        folder = run.DATA / "scratch"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(data.folder, folder)
    try:
        client, token = _client(folder, meta, scenario.signed_in, scenario.server)
        ideas = meta["open_ideas"]
        # As make bench's Lua scripts send them: the queries in turn (built once, outside the
        # requests that are timed).
        queries = run.feature_searches() if scenario.name == "search_features" else run.SEARCHES
        # The other write scenarios, as their Lua scripts send them.
        write_paths = {"vote_counted": f"/ideas/{ideas[0]}/vote", "post_floor": "/bench/floor"}

        def one(n: int) -> None:
            if scenario.name in write_paths:
                response = client.post(write_paths[scenario.name],
                                       headers={"X-CSRFToken": token,
                                                "Accept": "application/json"})
            elif scenario.baseline == "write":
                action = "vote" if n % 2 == 0 else "unvote"
                response = client.post(f"/ideas/{ideas[(n // 2) % len(ideas)]}/{action}",
                                       headers={"X-CSRFToken": token,
                                                "Accept": "application/json"})
            elif scenario.name in ("search", "search_features", "similar"):
                # Similar titles all new, as in make bench.
                query = queries[n % len(queries)]
                if scenario.name == "similar":
                    response = client.get(f"/similar?title={query} {n}")
                else:
                    response = client.get("/search", query_string={"q": query})
            else:
                response = client.get(scenario.path)
            assert response.status_code == 200, response.status_code

        for n in range(30):
            one(n)
        started = time.process_time()
        for n in range(requests):
            one(n)
        cpu_ms = (time.process_time() - started) / requests * 1000
        profile = cProfile.Profile()
        profile.enable()
        for n in range(requests):
            one(n)
        profile.disable()
    finally:
        if scenario.baseline == "write":
            shutil.rmtree(folder, ignore_errors=True)
    if os.environ.get("BENCH_PROFILE_OUT"):
        profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
    report(name, cpu_ms, pstats.Stats(profile))


def report(name: str, cpu_ms: float, stats: pstats.Stats) -> None:
    shares: collections.Counter[str] = collections.Counter()
    for (filename, _line, _function), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        match = re.search(r"site-packages/([^/]+)", filename)
        if match:
            where = match.group(1)
        elif "/forum/" in filename or "/templates/" in filename:
            where = "the forum (code and templates)"
        else:
            where = "Python itself (builtins, stdlib)"
        shares[where] += own
    total = sum(shares.values())
    print(f"{name}: {cpu_ms:.2f} ms of CPU per request without the profiler.")
    print("Own time by package (cProfile):")
    for where, seconds in shares.most_common(10):
        print(f"  {where:40s} {100 * seconds / total:5.1f}%")
    lines = int(os.environ.get("BENCH_PROFILE_LINES", "15"))
    stats.sort_stats("cumulative").print_stats(r"forum|templates", lines)
    # Then every function, the product's or a library's, by its own time.
    stats.sort_stats("tottime").print_stats(lines)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300)
