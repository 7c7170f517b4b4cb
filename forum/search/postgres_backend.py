"""PostgreSQL implementation of :class:`~forum.search.base.SearchBackend`: the index is a table
of the forum's own database, so every web process on every host shares it.

Why a side table (``search_documents``) maintained by the app, and not a generated column on
``ideas``:

* A search document is more than the idea's row: public comments, tag, board and status slugs
  live in other tables, and a generated column can only read its own row (triggers on five
  tables could, at the price of a second copy of the rules of ``forum.search.indexing``).
* Text is prepared in Python by :mod:`forum.search.analysis` before PostgreSQL stems it:
  the language is guessed from the words, identifiers are split and kept whole
  (``getUserName`` → ``getUserName get User Name``) and accents are folded, so both backends
  find the same ideas for the same words. SQL cannot reproduce that analysis.
* Each row keeps the :func:`~forum.search.base.fingerprint` of the version it was built from, so
  ``flask forum check`` measures drift for real and ``flask forum reindex`` rebuilds the table,
  exactly as with Whoosh. The table is written after each commit by ``forum.search.indexing``.

Per idea, ``prose`` is a ``tsvector`` in the idea's language (``english``, ``french`` or
``italian``; title weighted A, body B, comments C) and ``words`` one in ``simple`` (unstemmed
words, identifiers and tags); both have GIN indexes. A query is parsed with
``websearch_to_tsquery`` (quotes, ``-word``, ``or``) once per language and matched against the
ideas written in that language, and once with ``simple``, so a query in any of the three
languages finds ideas written in it. ``title_folded`` has a trigram GIN index (``pg_trgm``):
when no word matches, titles close to the query (typos) are returned instead.

Duplicate suggestions (:meth:`similar`) use the same :class:`DuplicateRanker` as the Whoosh
backend, fed from this table, so both backends rank duplicates identically. Each process
keeps it in step through ``search_state``: every write transaction starts by incrementing its
revision (a row lock, so writers are serialised and revisions follow commit order), and the
ranker reads only the rows written since the revision it last saw.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, create_engine, text
from whoosh.support.charset import accent_map

from forum.search.analysis import (
    guess_language,
    normalize_language,
    query_words,
    split_identifier,
    word_terms,
)
from forum.search.base import (
    SORTS,
    IdeaDocument,
    SearchBackend,
    SearchHit,
    SearchPage,
    TopOrder,
    fingerprint,
)
from forum.search.duplicates import DuplicateRanker, RankerWeights
from forum.search.snippets import highlighted
from forum.search.versions import Fingerprints

CONFIGS = {"en": "english", "fr": "french", "it": "italian"}
_MAX_QUERY_WORDS = 32
_MAX_QUERY_CHARS = 1000
_MAX_PER_PAGE = 100
# ts_rank weights for {D, C, B, A}: comments (C) count half the body (B), titles (A) three
# times, as the Whoosh field boosts do.
_RANK_WEIGHTS = "'{0.1, 0.17, 0.33, 1.0}'::float4[]"
# Matches through the unstemmed words (identifiers, tags, another language) count for less.
_WORDS_WEIGHT = 0.1
_NOT_WORD = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EXCLUDED = re.compile(r"(?:^|\s)-(\S+)")

_FIELDS = ("idea_id, fingerprint, language, board, status, tags, title, body, title_folded, "
           "created_at, merged, revision, prose, words")
_UPSERT = text(f"""
INSERT INTO search_documents ({_FIELDS})
VALUES (:idea_id, :fingerprint, :language, :board, :status, :tags, :title, :body, :title_folded,
        :created_at, :merged, :revision,
        setweight(to_tsvector(CAST(:config AS regconfig), :title_text), 'A')
        || setweight(to_tsvector(CAST(:config AS regconfig), :body_text), 'B')
        || setweight(to_tsvector(CAST(:config AS regconfig), :comments_text), 'C'),
        to_tsvector('simple', :words_text))
ON CONFLICT (idea_id) DO UPDATE SET
    fingerprint = excluded.fingerprint, language = excluded.language, board = excluded.board,
    status = excluded.status, tags = excluded.tags, title = excluded.title,
    body = excluded.body, title_folded = excluded.title_folded,
    created_at = excluded.created_at, merged = excluded.merged,
    revision = excluded.revision, prose = excluded.prose, words = excluded.words
""")
_QUERIES = """
    WITH q AS (SELECT websearch_to_tsquery('english', :q) AS en,
                      websearch_to_tsquery('french', :q) AS fr,
                      websearch_to_tsquery('italian', :q) AS it,
                      websearch_to_tsquery('simple', :q) AS s)
"""
# One clause per language, so each can use the GIN index with a constant query.
_MATCHES = ("((d.language = 'en' AND d.prose @@ q.en) OR (d.language = 'fr' AND d.prose @@ q.fr)"
            " OR (d.language = 'it' AND d.prose @@ q.it) OR d.words @@ q.s)")
_SCORE = (f"ts_rank({_RANK_WEIGHTS}, d.prose, CASE d.language WHEN 'fr' THEN q.fr "
          f"WHEN 'it' THEN q.it ELSE q.en END) + {_WORDS_WEIGHT} * ts_rank(d.words, q.s)")
# "top" has no SQL order here: vote counts are not in the index (see ``IdeaDocument``); the
# caller's ``top_order`` orders the matching ids.
_ORDER = {
    "relevance": "score DESC, d.idea_id",
    "new": "d.created_at DESC, d.idea_id DESC",
}


def fold(text_: str) -> str:
    """Lowercase and without accents, as the index stores words."""
    return text_.translate(accent_map).lower()


def prepared(text_: str) -> str:
    """Words of ``text_`` for ``to_tsvector``: compounds followed by their parts, folded."""
    words: list[str] = []
    for word in query_words(_NOT_WORD.sub(" ", text_)):
        words.append(word)
        parts = split_identifier(word)
        if len(parts) > 1:
            words.extend(part for part, _, _ in parts)
    return fold(" ".join(words))


def prepared_query(query: str) -> str:
    """The user's query for ``websearch_to_tsquery``: its operators kept, compounds split
    (``darkMode`` → ``dark mode``, as the index holds their parts), accents folded."""

    def parts(match: re.Match[str]) -> str:
        found = split_identifier(match.group())
        return " ".join(p for p, _, _ in found) if len(found) > 1 else match.group()

    cleaned = _NOT_WORD.sub(" ", query.replace("\x00", " "))[:_MAX_QUERY_CHARS]
    return fold(re.sub(r"\w+(?:[.\-$_]\w+)*", parts, cleaned))


class PostgresBackend(SearchBackend):
    """Search and duplicate suggestions stored in the PostgreSQL database at ``url``."""

    def __init__(self, url: str, *, weights: RankerWeights | None = None) -> None:
        # Its own small pool: the index is written after the request's commit, outside the
        # request's session, as with Whoosh.
        self._engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        self._ranker = DuplicateRanker(weights)
        self._ranker_lock = threading.Lock()
        self._seen = -1                       # search_state.revision the ranker mirrors
        self._versions = Fingerprints()       # id -> fingerprint, as mirrored by the ranker

    # -- writing -----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[tuple[Connection, int]]:
        """A write transaction holding the index's write lock (the row of ``search_state``)."""
        with self._engine.begin() as conn:
            revision = conn.execute(text(
                "UPDATE search_state SET revision = revision + 1 RETURNING revision")).scalar_one()
            yield conn, revision

    def index(self, docs: Iterable[IdeaDocument]) -> None:
        batch = list(docs)
        if batch:
            with self._writing() as (conn, revision):
                self._upsert(conn, batch, revision)

    def remove(self, ids: Iterable[int]) -> None:
        doomed = sorted({int(i) for i in ids})
        if doomed:
            with self._writing() as (conn, revision):
                self._delete(conn, doomed, revision)

    def refresh(self, ids: Collection[int],
                load: Callable[[list[int]], list[IdeaDocument]]) -> None:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return
        with self._writing() as (conn, revision):
            # Read while holding the write lock: whoever writes last has read last, so two
            # processes refreshing the same idea cannot leave the older version in the index.
            batch = load(wanted)
            self._upsert(conn, batch, revision)
            found = {doc.id for doc in batch}
            self._delete(conn, [i for i in wanted if i not in found], revision)

    def rebuild(self, batches: Iterable[list[IdeaDocument]]) -> None:
        """One transaction for the whole table: searches see the old index until the new one
        is complete, and other writers wait for it instead of interleaving with it."""
        with self._writing() as (conn, revision):
            conn.execute(text("DELETE FROM search_documents"))
            conn.execute(text("UPDATE search_state SET removed_revision = :r"), {"r": revision})
            for batch in batches:
                self._upsert(conn, batch, revision)

    def clear(self) -> None:
        with self._writing() as (conn, revision):
            conn.execute(text("DELETE FROM search_documents"))
            conn.execute(text("UPDATE search_state SET removed_revision = :r"), {"r": revision})

    @staticmethod
    def _upsert(conn: Connection, batch: list[IdeaDocument], revision: int) -> None:
        if batch:
            conn.execute(_UPSERT, [_row(doc, revision) for doc in batch])

    @staticmethod
    def _delete(conn: Connection, ids: list[int], revision: int) -> None:
        if not ids:
            return
        gone = conn.execute(text("DELETE FROM search_documents WHERE idea_id = ANY(:ids) "
                                 "RETURNING idea_id"), {"ids": ids}).all()
        if gone:
            conn.execute(text("UPDATE search_state SET removed_revision = :r"), {"r": revision})

    # -- reading -----------------------------------------------------------------------------

    def count(self) -> int:
        with self._engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM search_documents")).scalar_one()

    def stored_versions(self) -> dict[int, str]:
        with self._engine.connect() as conn:
            return {int(i): f for i, f in conn.execute(
                text("SELECT idea_id, fingerprint FROM search_documents"))}

    def search(self, query: str, *, boards: Collection[str] | None = None,
               status: str | None = None, tag: str | None = None, sort: str = "relevance",
               page: int = 1, per_page: int = 20,
               top_order: TopOrder | None = None) -> SearchPage:
        page = max(1, int(page))
        per_page = min(max(1, int(per_page)), _MAX_PER_PAGE)
        sort = sort if sort in SORTS else "relevance"
        if sort == "top" and top_order is None:
            sort = "new"
        order: str | TopOrder = top_order if sort == "top" and top_order else _ORDER[sort]
        if boards is not None and not boards:
            return SearchPage(hits=[], total=0)
        query = query if isinstance(query, str) else ""
        where, params = _filters(boards, status, tag)
        params.update(limit=per_page, offset=(page - 1) * per_page)
        words = query_words(_NOT_WORD.sub(" ", query))[:_MAX_QUERY_WORDS]
        stop_language = guess_language(query)
        meaningful = [w for w in words if word_terms(w, stop_language)]
        with self._engine.connect() as conn:
            if not meaningful:
                # Nothing to look for (empty or only stop words): list everything, filtered.
                return _page(conn, "", "0.0", f"FROM search_documents d WHERE {where}",
                             order.replace("score DESC, ", "") if isinstance(order, str) else order,
                             params, ())
            attempts = [prepared_query(query)]
            if len(meaningful) > 1 and not ('"' in query or _EXCLUDED.search(query)):
                # Every word must match; if that finds nothing, any word will do.
                attempts.append(" or ".join(prepared_query(w) for w in meaningful))
            terms = _positive_words(query, words)
            for attempt in attempts:
                found = _page(conn, _QUERIES, _SCORE,
                              f"FROM search_documents d CROSS JOIN q WHERE {where} AND {_MATCHES}",
                              order, {**params, "q": attempt}, terms)
                if found.total:
                    return found
            if '"' in query or _EXCLUDED.search(query):
                return found  # an exact phrase or an exclusion was asked for: no guessing
            # No word matched: titles that look like the query (typos, word forms).
            return _page(conn, "", "word_similarity(:t, d.title_folded)",
                         f"FROM search_documents d WHERE {where} AND :t <% d.title_folded",
                         order, {**params, "t": fold(" ".join(meaningful))}, terms)

    def similar(self, title: str, body: str = "", *, limit: int = 5,
                boards: Collection[str] | None = None, exclude_ids: Collection[int] = (),
                created_before: datetime | None = None,
                language: str | None = None) -> list[tuple[int, float]]:
        """See :meth:`SearchBackend.similar`; ``language`` is guessed from the text if omitted."""
        self.ready_ranker()
        return self._ranker.rank(title, body, limit=limit, language=language, boards=boards,
                                 exclude_ids=exclude_ids, created_before=created_before)

    def _sync_ranker(self) -> None:
        """Bring the ranker up to date with the table: one indexed read of one row when
        nothing changed; otherwise only the rows written since (all ids after a removal)."""
        with self._ranker_lock, self._engine.connect() as conn:
            revision, removed = conn.execute(
                text("SELECT revision, removed_revision FROM search_state")).one()
            if revision == self._seen:
                return
            if removed > self._seen:
                stored = {int(i) for (i,) in conn.execute(
                    text("SELECT idea_id FROM search_documents"))}
                gone = [i for i in self._versions.ids().tolist() if i not in stored]
                self._ranker.remove(gone)
                self._versions.discard(gone)
            rows = conn.execute(text(
                "SELECT idea_id, fingerprint, title, body, board, created_at, merged, language "
                "FROM search_documents WHERE revision > :seen"), {"seen": self._seen}).all()
            changed = [r for r in rows if self._versions.get(r.idea_id) != r.fingerprint]
            self._ranker.upsert(IdeaDocument(
                id=int(r.idea_id), title=r.title, body=r.body, board=r.board,
                created_at=r.created_at.astimezone(UTC),
                merged_into=-1 if r.merged else None, language=r.language) for r in changed)
            self._versions.update((int(r.idea_id), r.fingerprint) for r in changed)
            self._ranker.compact()
            self._seen = revision

    def close(self) -> None:
        self._engine.dispose()


def _row(doc: IdeaDocument, revision: int) -> dict[str, Any]:
    lang = normalize_language(doc.language)
    created = doc.created_at if doc.created_at.tzinfo else doc.created_at.replace(tzinfo=UTC)
    tags = [t.strip().lower() for t in doc.tags if t.strip()]
    return {
        "idea_id": doc.id, "fingerprint": fingerprint(doc), "language": lang,
        "board": doc.board, "status": doc.status, "tags": tags, "title": doc.title,
        "body": doc.body, "title_folded": fold(doc.title), "created_at": created,
        "merged": doc.merged_into is not None, "revision": revision,
        "config": CONFIGS[lang], "title_text": prepared(doc.title),
        "body_text": prepared(doc.body), "comments_text": prepared(doc.comments),
        "words_text": prepared(" ".join([doc.title, doc.body, doc.comments, *tags])),
    }


def _page(conn: Connection, prefix: str, score: str, source: str, order: str | TopOrder,
          params: dict[str, Any], terms: Collection[str]) -> SearchPage:
    """One page of ``source`` (a FROM … WHERE …) with highlights, and the total.

    ``order`` is an SQL ORDER BY, or a :data:`TopOrder` that orders the ids of every match."""
    if not isinstance(order, str):
        return _top_page(conn, prefix, source, order, params, terms)
    rows = conn.execute(text(
        f"{prefix} SELECT d.idea_id, d.title, d.body, d.language, {score} AS score, "
        f"count(*) OVER () AS total {source} ORDER BY {order} LIMIT :limit OFFSET :offset"),
        params).all()
    if rows or not params["offset"]:
        total = rows[0].total if rows else 0
    else:
        # A page past the end still tells how many there are.
        total = conn.execute(text(f"{prefix} SELECT count(*) {source}"), params).scalar_one()
    return SearchPage(hits=_hits(rows, terms), total=int(total))


def _top_page(conn: Connection, prefix: str, source: str, top_order: TopOrder,
              params: dict[str, Any], terms: Collection[str]) -> SearchPage:
    """A page in "top" order: the ids of every match, ordered by ``top_order`` (the database's
    vote counts), then the rows of the page's ideas."""
    matching = [int(i) for (i,) in conn.execute(
        text(f"{prefix} SELECT d.idea_id {source}"), params)]
    start = params["offset"]
    shown = top_order(matching, start + params["limit"])[start:start + params["limit"]]
    rows = {row.idea_id: row for row in conn.execute(text(
        "SELECT d.idea_id, d.title, d.body, d.language, 0.0 AS score FROM search_documents d "
        "WHERE d.idea_id = ANY(:ids)"), {"ids": shown})} if shown else {}
    return SearchPage(hits=_hits([rows[i] for i in shown if i in rows], terms),
                      total=len(matching))


def _hits(rows: Iterable[Any], terms: Collection[str]) -> list[SearchHit]:
    hits = []
    for row in rows:
        lang = normalize_language(row.language)
        title_html, snippet_html = highlighted(
            row.title, row.body, {t for word in terms for t, _, _ in word_terms(word, lang)}, lang)
        hits.append(SearchHit(id=int(row.idea_id), score=float(row.score),
                              title_html=title_html, snippet_html=snippet_html))
    return hits


def _filters(boards: Collection[str] | None, status: str | None, tag: str | None
             ) -> tuple[str, dict[str, Any]]:
    """SQL restriction (merged ideas never show) and its parameters."""
    where, params = ["NOT d.merged"], {}
    if boards is not None:
        where.append("d.board = ANY(:boards)")
        params["boards"] = list(boards)
    if status:
        where.append("d.status = :status")
        params["status"] = status
    if tag:
        where.append(":tag = ANY(d.tags)")
        params["tag"] = tag.strip().lower()
    return " AND ".join(where), params


def _positive_words(query: str, words: list[str]) -> list[str]:
    """The query's words to highlight: those not excluded with ``-word``."""
    excluded = {w for m in _EXCLUDED.finditer(query) for w in query_words(m.group(1))}
    return [w for w in words if w not in excluded]

