"""The forum's search against SQLite FTS5 on the same documents: ``python -m bench.fts5``.

    python -m bench.fts5 [--data DIR] [--rounds 10] [--similar 60] [--query TEXT ...] [--json]

Issue #9 asks for the ratio of the forum's search and similar-ideas latency to SQLite FTS5 on
the same documents. This builds an FTS5 table (porter + unicode61 tokenizer, in a temporary
database file) from the very documents the Whoosh index holds (``forum.search.indexing``'s
``documents``: title, body, public comments, tags), timing the build, then times both engines
in this process, no HTTP, interleaved query by query so that the neighbours' load falls on both:

* **search**: the call the search page makes for a signed-out visitor (``backend().search`` on
  the boards they may see, first page of 20, relevance order, hits highlighted) against an FTS5
  ``MATCH`` of the same words (all of them; any of them if that finds nothing, as the forum
  does), ``bm25()`` order with the forum's field weights, ``LIMIT 20``, highlighted title and
  snippet, and the count of matches the page shows;
* **similar ideas**: ``backend().similar(title, body, limit=8)`` for the 10 most distinctive
  words of real ideas (those fewest ideas use, as a more-like-this query picks them; every
  query new, so the ranker's memo never answers; the idea itself excluded) against FTS5 with
  the same words OR-ed, ``bm25()`` order, ``LIMIT 8``.

Overlap is the share of the top five ids the two engines have in common: they answer the same
question, not identically (the forum stems each idea in its own language and adds title
trigrams to its similar-ideas ranking; FTS5's porter stemmer is English only).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SEARCH_TARGET_MS = 50
SIMILAR_TARGET_MS = 100
SIMILAR_TERMS = 10
SIMILAR_LIMIT = 8
PER_PAGE = 20
# The forum's field boosts (forum/search/whoosh_backend.py); tags count as body text there.
_BM25 = "bm25(ideas_fts, 3.0, 1.0, 0.5, 1.0)"
_PLAIN = re.compile(r"[^\W_]+")


def _percentile(values: Sequence[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _figures(times: Sequence[tuple[float, float]]) -> dict[str, float]:
    """Percentiles of wall-clock and CPU time (this process's, in seconds, per call): on a
    shared machine the CPU time shows the cost of a query apart from waiting for a core."""
    wall, cpu = [w * 1000 for w, _ in times], [c * 1000 for _, c in times]
    return {"p50_ms": round(_percentile(wall, 50), 2), "p95_ms": round(_percentile(wall, 95), 2),
            "cpu_p50_ms": round(_percentile(cpu, 50), 2),
            "cpu_p95_ms": round(_percentile(cpu, 95), 2)}


def _overlap(first: Sequence[int], second: Sequence[int]) -> float | None:
    a, b = list(first)[:5], list(second)[:5]
    if not a and not b:
        return None
    return len(set(a) & set(b)) / max(1, min(5, max(len(a), len(b))))


def _content_words(text: str) -> list[str]:
    """The query's words as the forum keeps them: stop words of the text's language dropped."""
    from forum.search.analysis import guess_language, query_words, word_terms

    language = guess_language(text)
    return [w for w in query_words(text) if word_terms(w, language)]


def _match(words: Sequence[str], combine: str) -> str:
    # Each word quoted: FTS5 then reads no operator in it ("two-factor" becomes a phrase).
    return f" {combine} ".join('"' + w.replace('"', '""') + '"' for w in words)


class Fts5:
    """An FTS5 table of the index's documents, in its own database file."""

    def __init__(self, path: Path, boards: Sequence[str] | None) -> None:
        self.path = path
        self.con = sqlite3.connect(path)
        # Board and merged flag live in an ordinary table: as UNINDEXED columns of the FTS5
        # table, filtering on them reads every match's whole content row (body, comments).
        self._where = "ideas_fts MATCH ? AND d.merged = 0"
        self._boards: tuple[str, ...] = ()
        if boards is not None:
            self._boards = tuple(boards)
            self._where += f" AND d.board IN ({', '.join('?' * len(self._boards))})"
        self._from = "ideas_fts JOIN docs d ON d.id = ideas_fts.rowid"

    def build(self, docs: Sequence[Any]) -> float:
        """Seconds to create, fill and optimise the tables from documents already in memory."""
        started = time.perf_counter()
        self.con.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, board TEXT NOT NULL, "
                         "merged INTEGER NOT NULL)")
        self.con.execute(
            "CREATE VIRTUAL TABLE ideas_fts USING fts5(title, body, comments, tags, "
            "tokenize = 'porter unicode61 remove_diacritics 2')")
        self.con.executemany(
            "INSERT INTO ideas_fts (rowid, title, body, comments, tags) VALUES (?, ?, ?, ?, ?)",
            ((d.id, d.title, d.body, d.comments, " ".join(d.tags)) for d in docs))
        self.con.executemany("INSERT INTO docs (id, board, merged) VALUES (?, ?, ?)",
                             ((d.id, d.board, int(d.merged_into is not None)) for d in docs))
        self.con.execute("INSERT INTO ideas_fts (ideas_fts) VALUES ('optimize')")
        self.con.commit()
        return time.perf_counter() - started

    def _top(self, match: str, limit: int, exclude: int | None = None) -> list[int]:
        where = self._where + ("" if exclude is None else " AND ideas_fts.rowid != ?")
        params = (match, *self._boards, *(() if exclude is None else (exclude,)))
        return [r[0] for r in self.con.execute(
            f"SELECT ideas_fts.rowid FROM {self._from} WHERE {where} "
            f"ORDER BY {_BM25} LIMIT {limit}", params)]

    def search(self, text: str) -> tuple[list[int], int]:
        """First page (ids) and total, as the search page would need them."""
        words = _content_words(text)
        if not words:
            return [], 0
        ids: list[int] = []
        match = ""
        for combine in ("AND", "OR"):
            match = _match(words, combine)
            ids = self._top(match, PER_PAGE)
            if ids or len(words) < 2:
                break
        total = self.con.execute(f"SELECT count(*) FROM {self._from} WHERE {self._where}",
                                 (match, *self._boards)).fetchone()[0]
        # The page shows the hits' titles and a snippet highlighted, as the forum's page does;
        # asked for the shown rows only, which is cheaper than for every row the sort sees.
        if ids:
            self.con.execute(
                "SELECT rowid, highlight(ideas_fts, 0, '<mark>', '</mark>'), "
                "snippet(ideas_fts, 1, '<mark>', '</mark>', '…', 24) FROM ideas_fts "
                f"WHERE ideas_fts MATCH ? AND rowid IN ({', '.join('?' * len(ids))})",
                (match, *ids)).fetchall()
        return ids, total

    def similar(self, words: Sequence[str], exclude: int) -> list[int]:
        return self._top(_match(words, "OR"), SIMILAR_LIMIT, exclude)

    def close(self) -> None:
        self.con.close()


def _similar_queries(docs: Sequence[Any], count: int, seed: int = 9
                     ) -> list[tuple[int, str, str, list[str]]]:
    """(id, title, body, words) of ``count`` real ideas: the ``SIMILAR_TERMS`` most distinctive
    words of each (fewest ideas using them), as a more-like-this query picks them. Both engines
    get these words: the forum as a title (those from the idea's title) and a body (the rest)."""
    rng = random.Random(seed)
    pool = [d for d in docs if d.merged_into is None and d.body.strip()]
    chosen = rng.sample(pool, min(count, len(pool)))
    candidates = {d.id: [w for w in dict.fromkeys(
        w.lower() for w in _content_words(f"{d.title}\n{d.body}")) if _PLAIN.fullmatch(w)]
        for d in chosen}
    wanted = set().union(*candidates.values())
    spread: Counter[str] = Counter()
    for doc in docs:
        spread.update(wanted.intersection(_PLAIN.findall(f"{doc.title} {doc.body}".lower())))
    queries = []
    for doc in chosen:
        words = sorted(candidates[doc.id], key=lambda w: spread[w])[:SIMILAR_TERMS]
        in_title = {w.lower() for w in _content_words(doc.title)}
        queries.append((doc.id, " ".join(w for w in words if w in in_title),
                        " ".join(w for w in words if w not in in_title), words))
    return queries


def _timed(call: Callable[..., Any], *args: Any) -> tuple[tuple[float, float], Any]:
    started, cpu = time.perf_counter(), time.process_time()
    answer = call(*args)
    return (time.perf_counter() - started, time.process_time() - cpu), answer


def _load_documents(app: Any) -> tuple[list[Any], float]:
    from forum.extensions import db
    from forum.search import indexing

    started = time.perf_counter()
    with app.app_context():
        ids = list(db.session.scalars(indexing.indexed_ideas()))
        docs = []
        for doc in indexing.documents(db.session, ids):
            docs.append(doc)
            if len(docs) % indexing.BATCH_SIZE == 0:
                db.session.expunge_all()  # 100,000 ideas in the identity map cost memory only
        db.session.remove()
    return docs, time.perf_counter() - started


def _folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def compare(folder: Path, *, rounds: int = 10, similar: int = 60,
            searches: Sequence[str] | None = None) -> dict:
    """Both engines on the instance in ``folder`` (read only); figures as a dict."""
    from forum import create_app
    from forum.search import service

    if searches is None:
        from bench.run import SEARCHES
        searches = SEARCHES
    if not (folder / "forum.db").exists():
        raise SystemExit(f"No forum.db in {folder}: generate a set first (make bench does).")
    load_before = round(os.getloadavg()[0], 2)
    app = create_app({"INSTANCE_PATH": str(folder)})
    docs, load_s = _load_documents(app)
    documents = len(docs)
    with app.app_context():
        # What search_ideas and similar_ideas pass for a signed-out visitor.
        boards = service._restriction(service._visible_slugs(None))
        whoosh = service.backend(app)
    meta_file = folder / "bench.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    with tempfile.TemporaryDirectory(prefix="bench-fts5-") as scratch:
        fts = Fts5(Path(scratch) / "fts5.db", boards)
        try:
            build_s = fts.build(docs)
            fts_mb = _folder_mb(Path(scratch))
            sample = _similar_queries(docs, similar + 5)
            del docs
            with app.app_context():
                search = _search_round_robin(whoosh, fts, boards, list(searches), rounds)
                similar_figures = _similar_round_robin(whoosh, fts, boards, sample)
        finally:
            fts.close()
            service.close(app)
    return {
        "documents": documents,
        "load_average_before": load_before,
        "load_average_after": round(os.getloadavg()[0], 2),
        "documents_load_s": round(load_s, 1),
        "fts5_build_s": round(build_s, 1),
        "whoosh_reindex_s": meta.get("reindex_seconds"),
        "fts5_db_mb": fts_mb,
        "whoosh_index_mb": _folder_mb(folder / "search-index"),
        "search": search,
        "similar": similar_figures,
    }


def _search_round_robin(whoosh: Any, fts: Fts5, boards: Sequence[str] | None,
                        searches: list[str], rounds: int) -> dict:
    from forum.search.service import most_voted_first
    from forum.search.whoosh_arrays import postings_cache

    def forum(text: str) -> tuple[list[int], int]:
        page = whoosh.search(text, boards=boards, status=None, tag=None, sort="relevance",
                             page=1, per_page=PER_PAGE, top_order=most_voted_first)
        return [h.id for h in page.hits], page.total

    for text in searches:  # warm-up: Whoosh's searcher, doc sets, SQLite's page cache
        forum(text)
        fts.search(text)
    times: dict[str, dict[str, list[tuple[float, float]]]] = {
        t: {"whoosh": [], "fts5": []} for t in searches}
    answers: dict[str, dict[str, tuple[list[int], int]]] = {t: {} for t in searches}
    engines: dict[str, Callable[[str], tuple[list[int], int]]] = {"whoosh": forum,
                                                                   "fts5": fts.search}
    cached: list[tuple[float, float]] = []
    for r in range(max(1, rounds)):
        for i, text in enumerate(searches):
            order = ("whoosh", "fts5") if (r + i) % 2 == 0 else ("fts5", "whoosh")
            for name in order:
                if name == "whoosh":
                    # Engine against engine: the forum decodes every posting list as FTS5
                    # reads its doclists, as for words nobody searched lately.
                    postings_cache.clear()
                seconds, answers[text][name] = _timed(engines[name], text)
                times[text][name].append(seconds)
            # And as the forum answers words searched before (their lists kept decoded).
            seconds, warm = _timed(forum, text)
            if warm != answers[text]["whoosh"]:
                raise RuntimeError(f"{text!r}: kept posting lists changed the answer")
            cached.append(seconds)
    per_query = {}
    for text in searches:
        (w_ids, w_total), (f_ids, f_total) = answers[text]["whoosh"], answers[text]["fts5"]
        per_query[text] = {
            "whoosh_p50_ms": _figures(times[text]["whoosh"])["p50_ms"],
            "fts5_p50_ms": _figures(times[text]["fts5"])["p50_ms"],
            "whoosh_total": w_total, "fts5_total": f_total,
            "whoosh_top5": w_ids[:5], "fts5_top5": f_ids[:5],
            "top5_overlap": _overlap(w_ids, f_ids),
        }
    agree = sum(p["whoosh_total"] == p["fts5_total"] for p in per_query.values())
    return _summary({n: [t for text in searches for t in times[text][n]]
                     for n in ("whoosh", "fts5")},
                    [p["top5_overlap"] for p in per_query.values()],
                    target=f"p95 < {SEARCH_TARGET_MS} ms", queries=len(searches),
                    whoosh_cached=_figures(cached),
                    same_total=round(agree / len(searches), 2), per_query=per_query)


def _similar_round_robin(whoosh: Any, fts: Fts5, boards: Sequence[str] | None,
                         sample: list[tuple[int, str, str, list[str]]]) -> dict:
    def forum(idea_id: int, title: str, body: str) -> list[int]:
        return [i for i, _ in whoosh.similar(title, body, limit=SIMILAR_LIMIT, boards=boards,
                                             exclude_ids={idea_id})]

    # The first call builds the in-memory ranker from the index (once per process).
    warm, measured = sample[:5], sample[5:]
    first, _ = _timed(forum, *warm[0][:3]) if warm else ((0.0, 0.0), None)
    for idea_id, title, body, words in warm[1:]:
        forum(idea_id, title, body)
        fts.similar(words, idea_id)
    times: dict[str, list[tuple[float, float]]] = {"whoosh": [], "fts5": []}
    overlaps = []
    for i, (idea_id, title, body, words) in enumerate(measured):
        found: dict[str, list[int]] = {}
        order = ("whoosh", "fts5") if i % 2 == 0 else ("fts5", "whoosh")
        for name in order:
            seconds, found[name] = (_timed(forum, idea_id, title, body) if name == "whoosh"
                                    else _timed(fts.similar, words, idea_id))
            times[name].append(seconds)
        overlaps.append(_overlap(found["whoosh"], found["fts5"]))
    return _summary(times, overlaps, target=f"p95 < {SIMILAR_TARGET_MS} ms",
                    queries=len(measured),
                    mean_terms=round(statistics.mean(len(q[3]) for q in measured), 1)
                    if measured else 0,
                    whoosh_first_call_s=round(first[0], 1))


def _summary(times: dict[str, list[tuple[float, float]]], overlaps: list[float | None],
             **extra: Any) -> dict:
    whoosh, fts = _figures(times["whoosh"]), _figures(times["fts5"])
    known = [o for o in overlaps if o is not None]
    return {
        "samples": len(times["whoosh"]),
        "whoosh": whoosh, "fts5": fts,
        "ratio_p50": round(whoosh["p50_ms"] / fts["p50_ms"], 1) if fts["p50_ms"] else None,
        "ratio_p95": round(whoosh["p95_ms"] / fts["p95_ms"], 1) if fts["p95_ms"] else None,
        **{f"cpu_ratio_{p}": round(whoosh[f"cpu_{p}_ms"] / fts[f"cpu_{p}_ms"], 1)
           if fts[f"cpu_{p}_ms"] else None for p in ("p50", "p95")},
        "top5_overlap": round(statistics.mean(known), 2) if known else None,
        **extra,
    }


def _pair(figures: dict[str, float]) -> str:
    return (f"{figures['p50_ms']} / {figures['p95_ms']} "
            f"({figures['cpu_p50_ms']} / {figures['cpu_p95_ms']})")


def table(result: dict) -> str:
    """The comparison as Markdown, for latest.md and the terminal."""
    lines = [
        f"Search engines in process on the same {result['documents']:,} documents "
        f"(load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after); milliseconds per call, wall clock "
        "(CPU time of the call in brackets):",
        "",
        "| kind | queries x runs | forum (Whoosh) p50 / p95 | SQLite FTS5 p50 / p95 "
        "| ratio Whoosh / FTS5, p50 / p95 | top-5 overlap | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind, what in (("search", "search, first page of 20 + total"),
                       ("similar", f"similar ideas, {result['similar'].get('mean_terms')} "
                                   f"terms, top {SIMILAR_LIMIT}")):
        s = result[kind]
        lines.append(
            f"| {what} | {s['queries']} x {s['samples'] // max(1, s['queries'])} | "
            f"{_pair(s['whoosh'])} | {_pair(s['fts5'])} | "
            f"{s['ratio_p50']} / {s['ratio_p95']} ({s['cpu_ratio_p50']} / {s['cpu_ratio_p95']})"
            f" | {s['top5_overlap']} | {s['target']} |")
    lines += [
        "",
        f"Search totals equal in both engines for {result['search']['same_total']:.0%} of "
        "the queries (top-5 overlap is the share of the first five ids in common).",
        "The forum's search is timed with its cache of decoded posting lists emptied before "
        "each query; with the lists of the query's words kept from before: "
        f"{_pair(result['search']['whoosh_cached'])}.",
        f"Build: FTS5 table {result['fts5_build_s']} s ({result['fts5_db_mb']} MB) from "
        f"documents loaded in {result['documents_load_s']} s; Whoosh reindex "
        f"{result['whoosh_reindex_s']} s ({result['whoosh_index_mb']} MB) when the set was "
        f"generated. First similar-ideas call (builds the ranker): "
        f"{result['similar'].get('whoosh_first_call_s')} s.",
    ]
    return "\n".join(lines)


def main() -> None:
    from bench import run

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="instance folder (default: make bench's big set)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--similar", type=int, default=60)
    parser.add_argument("--query", action="append", help="search instead of bench.run's")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = args.data or run.datasets()["big"].folder
    result = compare(folder, rounds=args.rounds, similar=args.similar, searches=args.query)
    print(json.dumps(result, indent=1) if args.json else table(result))


if __name__ == "__main__":
    main()
