"""The search backend on plain documents: indexing, search, multilingual analysis, duplicates.

The backend is the one the database under test selects (FORUM_TEST_DATABASE): Whoosh on SQLite,
the PostgreSQL backend (its tables in a fresh migrated database) on PostgreSQL.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forum.search import IdeaDocument, RankerWeights, SearchBackend, WhooshBackend, fingerprint
from forum.search.postgres_backend import PostgresBackend
from tests.databases import kind

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def idea(id: int, title: str, body: str = "", *, days: int = 0, **fields: object) -> IdeaDocument:
    return IdeaDocument(id=id, title=title, body=body, created_at=T0 + timedelta(days=days),
                        **fields)  # type: ignore[arg-type]


IDEAS = [
    idea(1, "Dark mode for the dashboard", "My eyes hurt at night, please add a dark theme.",
         board="ui", status="open", tags=("Theme", "accessibility"), days=0),
    idea(2, "Push notifications on mobile", "Send a notification when someone replies to me.",
         board="mobile", status="planned", days=1),
    idea(3, "Export ideas to CSV", "Product managers need a spreadsheet of all ideas.",
         board="reports", status="open", days=2),
    idea(4, "Amélioration de la recherche", "La recherche ne trouve pas les mots accentués.",
         board="ui", status="open", language="fr", days=3),
    idea(5, "Notifica quando un'idea cambia stato", "Vorrei ricevere una notifica via email.",
         board="mobile", status="open", language="it", days=4),
    idea(6, "Keyboard shortcuts", "Power users want shortcuts for voting and navigation.",
         board="ui", status="done", days=5),
]


# Votes live in the database, not in the index: "top" asks the caller for the order.
VOTES = {1: 12, 2: 30, 3: 3, 4: 7, 5: 2, 6: 20}


def most_voted(ids: list[int], needed: int) -> list[int]:
    return sorted(ids, key=lambda i: -VOTES.get(i, 0))[:needed]


@pytest.fixture
def open_backend(database_url: str, tmp_path: Path) -> Iterator[Callable[..., SearchBackend]]:
    """Opens the backend of this test's index; several calls open the same index (as other
    processes would). It asks for ``database_url`` up front so that the PostgreSQL run keeps
    these tests (it drops tests that never touch a database)."""
    opened: list[SearchBackend] = []

    def open_(weights: RankerWeights | None = None) -> SearchBackend:
        if kind() == "postgres":
            found: SearchBackend = PostgresBackend(database_url, weights=weights)
        else:
            found = WhooshBackend(tmp_path / "index", weights=weights)
        opened.append(found)
        return found

    yield open_
    for found in opened:
        found.close()


@pytest.fixture
def backend(open_backend: Callable[..., SearchBackend]) -> SearchBackend:
    b = open_backend()
    b.index(IDEAS)
    return b


def ids(page) -> list[int]:
    return [hit.id for hit in page.hits]


# -- indexing ------------------------------------------------------------------------------


def test_index_replace_and_remove(backend: SearchBackend) -> None:
    assert backend.count() == len(IDEAS)

    backend.index([replace(IDEAS[2], title="Export ideas to Excel", body="xlsx please")])
    assert backend.count() == len(IDEAS)
    assert ids(backend.search("excel")) == [3]
    assert backend.search("csv").total == 0

    backend.remove([3, 999])
    assert backend.count() == len(IDEAS) - 1
    assert backend.search("excel").total == 0
    assert 3 not in dict(backend.similar("Export ideas to Excel"))


def test_clear_empties_search_and_similar(backend: SearchBackend) -> None:
    backend.clear()
    assert backend.count() == 0
    assert backend.search("").total == 0
    assert backend.similar("Dark mode") == []
    backend.index([IDEAS[0]])
    assert ids(backend.search("dark")) == [1]


def test_index_survives_reopening_and_sees_other_writers(open_backend) -> None:
    first = open_backend()
    first.index(IDEAS)
    assert first.similar("keyboard shortcuts")[0][0] == 6
    second = open_backend()  # e.g. another worker process
    assert second.count() == len(IDEAS)
    assert second.similar("dark theme for the dashboard")[0][0] == 1
    second.index([idea(7, "Dark theme for e-mails", days=6)])
    second.remove([6])
    assert first.count() == len(IDEAS)
    assert 7 in dict(first.similar("dark theme e-mails"))
    assert 6 not in dict(first.similar("keyboard shortcuts"))
    assert first.search("shortcuts").total == 0


# -- search --------------------------------------------------------------------------------


def test_search_filters(backend: SearchBackend) -> None:
    assert set(ids(backend.search("dark OR notification OR shortcuts OR csv"))) >= {1, 2, 3, 6}
    assert set(ids(backend.search("", boards=["ui"]))) == {1, 4, 6}
    assert set(ids(backend.search("", boards=["ui", "mobile"]))) == {1, 2, 4, 5, 6}
    assert backend.search("", boards=[]).total == 0
    assert ids(backend.search("", status="planned")) == [2]
    assert ids(backend.search("", tag="theme")) == [1]
    assert ids(backend.search("dark", boards=["mobile"])) == []
    assert ids(backend.search("dark", status="declined")) == []  # a filter nothing passes


def test_search_sorts_and_pages(backend: SearchBackend) -> None:
    assert ids(backend.search("", sort="top", top_order=most_voted)) == [2, 6, 1, 4, 3, 5]
    assert ids(backend.search("", sort="top", top_order=most_voted, page=2, per_page=4)) == [3, 5]
    assert ids(backend.search("dashboard notification", sort="top",
                              top_order=most_voted)) == [2, 1]
    assert ids(backend.search("", sort="new")) == [6, 5, 4, 3, 2, 1]
    page2 = backend.search("", sort="new", page=2, per_page=4)
    assert page2.total == 6
    assert ids(page2) == [2, 1]
    beyond = backend.search("", page=9, per_page=4)
    assert (beyond.hits, beyond.total) == ([], 6)


def test_search_prefers_all_words_then_falls_back_to_any(backend: SearchBackend) -> None:
    assert ids(backend.search("dark dashboard")) == [1]
    assert set(ids(backend.search("dashboard spreadsheet"))) == {1, 3}


def test_merged_ideas_are_not_searchable(backend: SearchBackend) -> None:
    backend.index([idea(8, "Dark mode everywhere", merged_into=1, days=7)])
    assert ids(backend.search("dark")) == [1]
    assert backend.count() == len(IDEAS) + 1


@pytest.mark.parametrize("query", [
    '"unbalanced', "AND OR", "NOT", "*", "?", ":", "title:", "a:b:c", "(", ")", "[1 TO",
    "{}", "^2", "~", "\\", "dark AND", "OR dark", "\x00", "   ", "' OR 1=1 --", "é" * 500,
    "word " * 200, "<script>alert(1)</script>",
])
def test_malformed_queries_never_raise(backend: SearchBackend, query: str) -> None:
    page = backend.search(query)
    assert page.total >= 0


def test_highlights_are_html_safe(backend: SearchBackend) -> None:
    backend.index([idea(9, "Script <b>tags</b> & quotes \"here\"",
                        "Typing <script>alert('x')</script> in a tags field breaks it")])
    [hit] = backend.search("tags").hits
    assert hit.title_html == ("Script &lt;b&gt;<mark>tags</mark>&lt;/b&gt; &amp; quotes "
                              "&quot;here&quot;")
    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html
    assert "<mark>tags</mark>" in hit.snippet_html


def test_snippet_without_match_is_escaped_excerpt(backend: SearchBackend) -> None:
    backend.index([idea(10, "Better onboarding", "**Welcome** <i>tour</i> for new [users](/u)")])
    [hit] = backend.search("onboarding").hits
    assert hit.snippet_html == "Welcome &lt;i&gt;tour&lt;/i&gt; for new users"


# -- languages, typos, hyphens -------------------------------------------------------------


@pytest.mark.parametrize("query", ["améliorations", "ameliorations", "AMÉLIORATION", "accentue"])
def test_french_stemming_and_accent_folding(backend: SearchBackend, query: str) -> None:
    assert ids(backend.search(query)) == [4]


@pytest.mark.parametrize("query", ["notifiche", "notifica", "idee", "stati"])
def test_italian_plural_and_singular(backend: SearchBackend, query: str) -> None:
    assert 5 in ids(backend.search(query))


def test_italian_plural_document_found_by_singular(open_backend) -> None:
    b = open_backend()
    b.index([idea(1, "Miglioramenti delle notifiche", language="it")])
    assert ids(b.search("miglioramento notifica")) == [1]


def test_typo_is_tolerated(backend: SearchBackend) -> None:
    assert ids(backend.search("notifcation"))[0] == 2
    assert ids(backend.search("shortcust")) == [6]


@pytest.mark.parametrize("query", ["dark-mode", "dark mode", "Dark_Mode", "darkMode"])
def test_hyphen_and_identifier_variants(backend: SearchBackend, query: str) -> None:
    backend.index([idea(11, "Support dark-mode in e-mails", days=8)])
    assert set(ids(backend.search(query))) == {1, 11}


def test_identifiers_are_split_and_kept_whole(open_backend) -> None:
    b = open_backend()
    b.index([idea(1, "getUserName returns null", "NullPointerException in UserService"),
             idea(2, "User name is too long", "names over 40 characters are cut")])
    assert set(ids(b.search("user name"))) == {1, 2}
    assert ids(b.search("getUserName"))[0] == 1
    assert ids(b.search("NullPointerException")) == [1]


# -- duplicates ----------------------------------------------------------------------------


def test_similar_ranks_paraphrase_first(backend: SearchBackend) -> None:
    found = backend.similar("Dark theme for the dashboard", "Night mode would help my eyes")
    assert found[0][0] == 1
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(found))


def test_similar_in_french_and_italian(backend: SearchBackend) -> None:
    assert backend.similar("Améliorer la recherche des mots avec accents")[0][0] == 4
    assert backend.similar("Notifiche via email quando lo stato cambia")[0][0] == 5


def test_similar_tolerates_typos_in_titles(backend: SearchBackend) -> None:
    assert backend.similar("Push notifcations on mobil")[0][0] == 2


def test_similar_excludes_merged_ideas(backend: SearchBackend) -> None:
    backend.index([idea(12, "Dark mode for the dashboard please", merged_into=1, days=9)])
    found = dict(backend.similar("Dark mode for the dashboard", limit=10))
    assert 12 not in found
    assert 1 in found


def test_similar_respects_created_before_boards_and_exclusions(backend: SearchBackend) -> None:
    backend.index([idea(13, "Dark mode for the admin dashboard", board="admin", days=10)])
    query = "Dark mode for the dashboard"
    assert {i for i, _ in backend.similar(query, limit=10)} >= {1, 13}
    before = backend.similar(query, limit=10, created_before=T0 + timedelta(days=6))
    assert 13 not in dict(before) and 1 in dict(before)
    assert [i for i, _ in backend.similar(query, boards=["admin"])] == [13]
    assert 1 not in dict(backend.similar(query, limit=10, exclude_ids={1}))
    assert backend.similar(query, created_before=T0) == []


def test_similar_returns_only_related_ideas(backend: SearchBackend) -> None:
    assert backend.similar("zzqx wvvy") == []
    assert len(backend.similar("ideas", limit=2)) <= 2


def test_recency_prior_can_be_disabled(open_backend) -> None:
    b = open_backend(weights=RankerWeights(recency=0.0))
    b.index([idea(1, "Export to CSV", days=0), idea(2, "Export to CSV", days=300)])
    scores = dict(b.similar("Export to CSV"))
    assert scores[1] == pytest.approx(scores[2])


# -- fingerprints --------------------------------------------------------------------------


def test_stored_versions_detect_missing_and_stale(backend: SearchBackend) -> None:
    stored = backend.stored_versions()
    assert stored == {doc.id: fingerprint(doc) for doc in IDEAS}

    edited = replace(IDEAS[0], title="Dark mode for every page")
    assert fingerprint(edited) != stored[1]
    backend.index([edited])
    assert backend.stored_versions()[1] == fingerprint(edited)

    backend.remove([2])
    assert 2 not in backend.stored_versions()


def test_fingerprint_is_stable_and_treats_naive_datetimes_as_utc() -> None:
    doc = IDEAS[0]
    naive = replace(doc, created_at=doc.created_at.replace(tzinfo=None))
    assert fingerprint(doc) == fingerprint(naive)
    assert fingerprint(doc) == fingerprint(replace(doc, tags=tuple(reversed(doc.tags))))
    assert fingerprint(doc) != fingerprint(replace(doc, comments="a new comment"))


# -- concurrency ---------------------------------------------------------------------------


def test_concurrent_reads_and_writes(backend: SearchBackend) -> None:
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(20):
                backend.search("dark")
                backend.similar("dark mode")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    def writer() -> None:
        try:
            for n in range(10):
                backend.index([idea(100 + n, f"Dark idea number {n}", days=20 + n)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert backend.count() == len(IDEAS) + 10
    assert backend.search("dark").total == 11


def test_a_reader_elsewhere_answers_from_the_old_index_during_a_rebuild(tmp_path: Path) -> None:
    writer = WhooshBackend(tmp_path)
    writer.index([idea(1, "Dark mode for the dashboard")])
    reader = WhooshBackend(tmp_path)  # what a web worker (another process) has open
    during: list[list[int]] = []

    def batches() -> Iterator[list[IdeaDocument]]:
        yield [idea(2, "Dark theme everywhere")]
        during.append([hit.id for hit in reader.search("dark").hits])
        yield [idea(3, "Export invoices as spreadsheets")]

    try:
        writer.rebuild(batches())
        assert during == [[1]]
        assert [hit.id for hit in reader.search("dark").hits] == [2]
        assert [i for i, _ in reader.similar("Export invoices")] == [3]
    finally:
        reader.close()
        writer.close()


@pytest.mark.sqlite_only("the Whoosh backend's ranker reads the whole index on its first use")
def test_a_write_does_not_wait_for_a_fresh_workers_first_ranker_build(
        open_backend: Callable[..., SearchBackend]) -> None:
    open_backend().index(IDEAS)  # written by another process
    fresh = open_backend()
    reading, finish = threading.Event(), threading.Event()
    upsert = fresh._ranker.upsert  # type: ignore[attr-defined]

    def slow_upsert(docs):  # the first build analyses every idea: seconds at 100,000
        reading.set()
        assert finish.wait(10)
        upsert(docs)

    fresh._ranker.upsert = slow_upsert  # type: ignore[attr-defined]
    fresh.warm_up()
    assert reading.wait(10)
    # A status change indexes its idea meanwhile: it must not wait for the build.
    writer = threading.Thread(target=fresh.index, args=(
        [idea(7, "Dark theme for the dashboard at night", "Eyes hurt.", board="ui")],))
    writer.start()
    writer.join(5)
    assert not writer.is_alive()
    assert fresh.search("night").total == 2
    finish.set()
    fresh._ranker.upsert = upsert  # type: ignore[attr-defined]
    # The build ended on the index as it read it; the next use finds the new idea too.
    assert 7 in dict(fresh.similar("Dark theme for the dashboard", limit=3))


def test_whoosh_reads_a_mapped_segment_in_place_as_a_file_would() -> None:
    import io

    from forum.search.whoosh_backend import _View

    data = b"abc\nde\n\nxyz" + b"q" * 10_000 + b"\nend"
    for buf in (data, memoryview(data)):
        assert list(_View(buf)) == list(io.BytesIO(data))
        for size in (-1, 2, 5, 9_000):
            view, file = _View(buf), io.BytesIO(data)
            assert [view.readline(size) for _ in range(8)] == [file.readline(size)
                                                               for _ in range(8)]
        view, file = _View(buf), io.BytesIO(data)
        assert (view.read(3), view.seek(-2, 2), view.read()) == (
            file.read(3), file.seek(-2, 2), file.read())


@pytest.mark.sqlite_only("Whoosh maps its segment files; PostgreSQL's backend has none")
def test_pages_dropped_from_the_map_read_again_the_same(backend: SearchBackend) -> None:
    """A worker drops the index pages its searches mapped (they stay in the page cache); the
    next search maps them again and finds exactly what it found before."""
    from forum.search import whoosh_backend

    before = [(ids(backend.search(q)), backend.search(q).total)
              for q in ("dashboard", "csv export", "")]
    assert whoosh_backend._MAPS, "the searcher reads its segment through a map"
    whoosh_backend._unmap_read_pages()
    after = [(ids(backend.search(q)), backend.search(q).total)
             for q in ("dashboard", "csv export", "")]
    assert after == before and before[0][1] > 0
