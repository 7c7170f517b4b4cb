"""The app's search: which backend, opened once per process, and the questions pages ask it.

The backend is chosen by ``SEARCH_BACKEND`` (``whoosh``, or ``postgres``: the default when the
database is PostgreSQL) and opened lazily, once per index and process.
Every answer is checked against the database before it is shown: the index
only proposes ids, so an idea on a board the viewer may not see, a hidden idea or one merged
since it was indexed never reaches the page.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from forum import pagecache
from forum.accounts.models import User
from forum.errors import NotAllowed
from forum.extensions import db
from forum.ideas import merging, workflow
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea
from forum.search.base import SORTS, SearchBackend, SearchHit, heap_trimmer
from forum.search.postgres_backend import PostgresBackend
from forum.search.whoosh_backend import WhooshBackend
from forum.web import Page

BACKENDS = ("whoosh", "postgres")
# The index may hold ideas the viewer must not see; asking for a few more than shown keeps the
# list full after the database has had its say.
_SIMILAR_SLACK = 5
# The backend's similarity is about 1 for the best lexical match plus up to 0.5 for a close
# title; below this, "related" would only share a syllable with the idea.
RELATED_MIN_SCORE = 0.5

_open_lock = threading.Lock()
# One backend per index per process, shared by every app object that points at it: Whoosh's
# file lock only excludes other processes, so two writers on one folder in the same process
# (two app objects, as tests and the benchmark create) would corrupt the index.
_open: dict[tuple[str, str], SearchBackend] = {}


def _key(config: Mapping[str, Any]) -> tuple[str, str]:
    if config["SEARCH_BACKEND"] == "postgres":
        return "postgres", str(config["DATABASE_URL"])
    return config["SEARCH_BACKEND"], str(config["SEARCH_INDEX_DIR"])


def open_backend(config: Mapping[str, Any]) -> SearchBackend:
    """A new backend as configured (``SEARCH_BACKEND``, then ``SEARCH_INDEX_DIR`` for Whoosh or
    ``DATABASE_URL`` for PostgreSQL)."""
    name = config["SEARCH_BACKEND"]
    if name == "whoosh":
        return WhooshBackend(config["SEARCH_INDEX_DIR"])
    if name == "postgres":
        url = str(config.get("DATABASE_URL") or "")
        if not url.startswith("postgresql"):
            raise RuntimeError("FORUM_SEARCH_BACKEND=postgres needs a PostgreSQL database "
                               "(FORUM_DATABASE_URL=postgresql+psycopg://…); use whoosh "
                               "with SQLite.")
        return PostgresBackend(url)
    raise RuntimeError(f"FORUM_SEARCH_BACKEND={name!r} is not available in this version; "
                       f"use one of: {', '.join(BACKENDS)}.")


def backend(app: Flask | None = None) -> SearchBackend:
    """The backend of this application's index, opened on first use and kept for the life of
    the process."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    key = _key(app.config)
    found = _open.get(key)
    if found is None:
        with _open_lock:
            found = _open.get(key)
            if found is None:
                found = _open[key] = open_backend(app.config)
    return found


def close(app: Flask) -> None:
    """Release the index files (tests and benchmarks that open many apps call this)."""
    with _open_lock:
        found = _open.pop(_key(app.config), None)
    if found is not None:
        found.close()


# --- search page ---------------------------------------------------------------------------

@dataclass
class Result:
    idea: Idea
    hit: SearchHit


@dataclass
class ResultPage(Page):
    """One page of search results (``items`` are :class:`Result`), paginated like any list."""

    items: list[Result]


def search_ideas(query: str, viewer: User | None, *, board: str | None = None,
                 status: str | None = None, tag: str | None = None, sort: str = "relevance",
                 page: int = 1, per_page: int = 20,
                 visible: list[Board] | None = None) -> ResultPage:
    """Canonical ideas matching ``query`` on the boards this viewer may see (``visible``,
    :func:`forum.ideas.services.visible_boards`, when the caller has them already)."""
    slugs = _visible_slugs(viewer) if visible is None else [b.slug for b in visible]
    if board:
        slugs = [s for s in slugs if s == board]
    sort = sort if sort in SORTS else "relevance"
    if sort == "relevance" and not (query or "").strip():
        sort = "top"  # filters alone rank nothing; the most wanted ideas come first
    heap_trimmer.soon()
    found = backend().search(query or "", boards=_restriction(slugs), status=status or None,
                             tag=tag or None, sort=sort, page=page, per_page=per_page,
                             top_order=most_voted_first)
    shown = _shown_ideas(viewer, (hit.id for hit in found.hits), slugs)
    items = [Result(idea=shown[hit.id], hit=hit) for hit in found.hits if hit.id in shown]
    return ResultPage(items=items, total=found.total, page=page, per_page=per_page)


# A match set up to this size is ordered with an IN list; a bigger one (a filter without words
# matches most of the site) walks the ideas in vote order instead, which stops after ``needed``.
_TOP_IN_LIST = 2000


def most_voted_first(ids: list[int], needed: int) -> list[int]:
    """The first ``needed`` of these ideas by votes, as the lists order them ("top")."""
    if not ids or needed <= 0:
        return []
    # The lists' "top" order, which reads the index ix_ideas_list_top in order.
    order = (Idea.vote_count.desc(), Idea.id.desc())
    if len(ids) <= _TOP_IN_LIST:
        return list(db.session.scalars(
            select(Idea.id).where(Idea.id.in_(ids)).order_by(*order).limit(needed)))
    wanted, found = set(ids), []
    rows = db.session.scalars(select(Idea.id).where(Idea.merged_into_id.is_(None))
                              .order_by(*order).execution_options(yield_per=1000))
    for idea_id in rows:
        if idea_id in wanted:
            found.append(idea_id)
            if len(found) >= needed:
                break
    rows.close()
    return found


# --- similar ideas -------------------------------------------------------------------------

def similar_ideas(title: str, body: str, viewer: User | None, limit: int = 5,
                  exclude_ids: Collection[int] = (), *,
                  created_before: datetime | None = None) -> list[dict[str, Any]]:
    """Ideas that may already say what (title, body) says, best first.

    Items are shaped like CONTRACT.md's ``GET /api/v1/similar``: ``id, title, status, votes,
    score, url``; merged and hidden ideas and boards the viewer cannot see are left out.
    ``created_before`` keeps only ideas posted earlier (the duplicate benchmark replays
    history with it).
    """
    title, body = (title or "").strip(), (body or "").strip()
    limit = max(1, min(int(limit), 50))
    if not title and not body:
        return []
    slugs = _visible_slugs(viewer)
    heap_trimmer.soon()
    found = backend().similar(title, body, limit=limit + _SIMILAR_SLACK,
                              boards=_restriction(slugs), exclude_ids=set(exclude_ids),
                              created_before=created_before)
    shown = _shown_ideas(viewer, (idea_id for idea_id, _ in found), slugs)
    items = []
    for idea_id, score in found:
        idea = shown.get(idea_id)
        if idea is None:
            continue
        items.append({
            "id": idea.id,
            "title": idea.title,
            "status": idea.status.slug,
            "votes": idea.vote_count,
            "score": round(float(score), 4),
            "url": url_for("ideas.show", idea_id=idea.id, _external=True),
        })
        if len(items) == limit:
            break
    return items


def similar_ideas_for_form(title: str, body: str, viewer: User | None, limit: int = 5,
                           exclude_ids: Collection[int] = ()) -> list[dict[str, Any]]:
    """:func:`similar_ideas` plus what the suggestion box shows beside each: the status's
    name (untranslated), whether voting is open and whether the viewer already voted."""
    items = similar_ideas(title, body, viewer, limit=limit, exclude_ids=exclude_ids)
    found = {i.id: i for i in db.session.scalars(
        select(Idea).where(Idea.id.in_([item["id"] for item in items]))).unique()}
    voted = ideas.voted_idea_ids(viewer, found.values())
    for item in items:
        status = found[item["id"]].status
        item["status_name"] = status.name
        item["voting_open"] = workflow.voting_open(status.kind)
        item["voted"] = item["id"] in voted
    return items


# How long an idea page waits for a fresh process's first ranker build (instant on a small
# site; about 13 s at 100,000 ideas).
RELATED_WARM_UP_WAIT = 1.0


def related_ideas(idea: Idea, viewer: User | None, limit: int = 5) -> list[Idea]:
    """The "Related ideas" of an idea's page: its likely duplicates and neighbours."""
    target = ideas.canonical(idea)
    try:
        if not backend().warm_up(wait=RELATED_WARM_UP_WAIT):
            # A fresh process is still building its duplicate ranker: the page goes out now,
            # without related ideas, rather than after the whole build.
            pagecache.incomplete()
            return []
        items = [item for item in similar_ideas(target.title, target.body, viewer, limit=limit,
                                                exclude_ids=ideas.group_ids(target))
                 if item["score"] >= RELATED_MIN_SCORE]
    except Exception:
        # The index can be rebuilt at any time; the idea's own page must not depend on it.
        current_app.logger.exception("Related ideas unavailable: the search index failed.")
        pagecache.incomplete()
        return []
    # similar_ideas loaded these ideas: the session's identity map has them, no query.
    found = (db.session.get(Idea, item["id"]) for item in items)
    return [idea for idea in found if idea is not None]


def _visible_slugs(viewer: User | None) -> list[str]:
    return [b.slug for b in ideas.visible_boards(viewer)]


def _restriction(slugs: list[str]) -> list[str] | None:
    """``None`` (no board filter, the backend's fast path) when these are all the boards."""
    every = db.session.scalars(select(Board.slug)).all()
    return None if set(slugs) >= set(every) else slugs


def _shown_ideas(viewer: User | None, ids: Iterable[int], board_slugs: Collection[str]
                 ) -> dict[int, Idea]:
    """Of these ids, the canonical ideas the viewer may see, by id."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    staff = viewer is not None and viewer.is_authenticated and viewer.is_staff
    slugs = set(board_slugs)
    # Looked up by primary key and filtered here: given the board and state conditions in SQL,
    # SQLite walked a board's whole index instead (12 ms at 100,000 ideas, for 15 rows).
    found = db.session.scalars(select(Idea).where(Idea.id.in_(wanted))).unique()
    return {idea.id: idea for idea in found
            if idea.merged_into_id is None and idea.board.slug in slugs
            and (staff or idea.hidden_at is None)}


# --- the staff's duplicates queue ----------------------------------------------------------

@dataclass
class DuplicatePair:
    """A recent idea and an older one it probably repeats."""

    newer: Idea
    older: Idea
    score: float


def duplicate_queue(viewer: User | None, *, limit: int = 30, scan: int = 100,
                    per_idea: int = 3) -> list[DuplicatePair]:
    """Likely duplicate pairs across every board, best first, for staff.

    Each of the ``scan`` most recent canonical ideas is compared with the ideas posted before
    it (the backend's ``similar``), so a pair is found from its newer side, once. Pairs staff
    dismissed as "not a duplicate" never come back.
    """
    if viewer is None or not viewer.is_authenticated or not viewer.is_staff:
        raise NotAllowed(_l("Only the team can see the duplicates queue."))
    recent = db.session.scalars(
        select(Idea).where(Idea.merged_into_id.is_(None), Idea.hidden_at.is_(None))
        .order_by(Idea.created_at.desc(), Idea.id.desc()).limit(scan)
    ).unique().all()
    found = backend()
    best: dict[tuple[int, int], tuple[int, int, float]] = {}
    for idea in recent:
        for other, score in found.similar(idea.title, idea.body, limit=per_idea,
                                          exclude_ids={idea.id},
                                          created_before=idea.created_at):
            key = (min(idea.id, other), max(idea.id, other))
            if key not in best or best[key][2] < score:
                best[key] = (idea.id, other, score)
    dismissed = merging.dismissed_pairs(sorted({i for pair in best for i in pair}))
    candidates = [v for k, v in best.items() if k not in dismissed]
    shown = _shown_ideas(viewer, {i for newer, older, _ in candidates for i in (newer, older)},
                         _visible_slugs(viewer))
    pairs = [DuplicatePair(newer=shown[newer], older=shown[older], score=score)
             for newer, older, score in candidates if newer in shown and older in shown]
    pairs.sort(key=lambda p: (-p.score, -p.newer.id))
    return pairs[:limit]
