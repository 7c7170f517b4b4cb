"""The duplicate ranker keeps its ideas as column arrays plus the changes since the last merge:
whatever the order of changes and merges, it must rank exactly as one built at once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from forum.search import duplicates
from forum.search.base import IdeaDocument
from forum.search.duplicates import DuplicateRanker

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = ["dark", "mode", "theme", "export", "csv", "excel", "calendar", "sync", "keyboard",
         "shortcuts", "slack", "offline", "gantt", "chart", "webhooks", "recurring", "tasks",
         "screen", "reader", "notifications", "mobile", "search", "filter", "tags", "dashboard",
         "reports"]
QUERIES = [("Dark mode for the dashboard", ""), ("csv export", "excel reports please"),
           ("calender sync", ""), ("keyboard shortcuts", "for power users of the search"),
           ("webhooks", "notify slack on status changes"), ("mobile offline mode", "")]


def doc(idea_id: int, title: str, body: str = "", *, board: str = "ideas", days: int = 0,
        merged: bool = False) -> IdeaDocument:
    return IdeaDocument(id=idea_id, title=title, body=body, board=board,
                        created_at=T0 + timedelta(days=days),
                        merged_into=1 if merged else None)


def random_doc(rng: random.Random, idea_id: int) -> IdeaDocument:
    title = " ".join(rng.choices(WORDS, k=rng.randint(2, 5)))
    # Long bodies repeat words, so counts go past what one byte holds.
    body = " ".join(rng.choices(WORDS, k=rng.choice([0, 8, 40, 400])))
    return doc(idea_id, title, body, board=rng.choice(["ideas", "admin", "mobile"]),
               days=rng.randint(0, 300))


def rankings(ranker: DuplicateRanker) -> list[list[tuple[int, float]]]:
    found = []
    for title, body in QUERIES:
        found.append(ranker.rank(title, body, limit=8, created_before=T0 + timedelta(days=400)))
        found.append(ranker.rank(title, body, limit=5, boards=["admin", "mobile"],
                                 exclude_ids={3, 4}, created_before=T0 + timedelta(days=150)))
    return found


def assert_same(got: list[list[tuple[int, float]]], wanted: list[list[tuple[int, float]]]):
    assert [[i for i, _ in r] for r in got] == [[i for i, _ in r] for r in wanted]
    for mine, theirs in zip(got, wanted, strict=True):
        assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], rel=1e-12)


@pytest.mark.parametrize("merge_at", [10**9, 50])
def test_changes_rank_as_a_ranker_built_at_once(monkeypatch, merge_at: int) -> None:
    # merge_at=50: upserts merge by themselves as well as before each ranking.
    monkeypatch.setattr(duplicates, "_MERGE_AT", merge_at)
    rng = random.Random(7)
    current = {i: random_doc(rng, i) for i in range(60)}
    ranker = DuplicateRanker()
    ranker.upsert(current.values())
    for step in range(40):
        action = rng.random()
        if action < 0.4:
            changed = [random_doc(rng, rng.randrange(90)) for _ in range(rng.randint(1, 6))]
            ranker.upsert(changed)
            current.update((d.id, d) for d in changed)
        elif action < 0.6:
            gone = rng.sample(range(90), 4)
            ranker.remove(gone)
            for idea_id in gone:
                current.pop(idea_id, None)
        elif action < 0.7:
            victim = rng.randrange(90)
            ranker.upsert([doc(victim, "dark mode", merged=True)])
            current.pop(victim, None)
        if step % 3 == 0:
            rankings(ranker)  # merges what is pending
        assert len(ranker) == len(current)
    fresh = DuplicateRanker()
    fresh.upsert(current.values())
    assert_same(rankings(ranker), rankings(fresh))
    assert all(i in ranker for i in current)
    assert not any(i in ranker for i in range(90) if i not in current)


def test_upsert_replaces_and_the_next_ranking_sees_it() -> None:
    ranker = DuplicateRanker()
    ranker.upsert([doc(1, "Dark mode for the dashboard"), doc(2, "CSV export of votes"),
                   doc(3, "Dark mode please")])
    assert ranker.rank("dark mode dashboard")[0][0] == 1
    ranker.upsert([doc(1, "Calendar sync with Outlook")])
    assert len(ranker) == 3
    assert ranker.rank("dark mode dashboard")[0][0] == 3
    assert ranker.rank("calendar sync")[0][0] == 1


def test_remove_and_merged_ideas_leave_the_ranking() -> None:
    ranker = DuplicateRanker()
    ranker.upsert([doc(1, "Dark mode"), doc(2, "Dark theme"), doc(3, "Dark colours")])
    assert {i for i, _ in ranker.rank("dark mode", limit=10)} == {1, 2, 3}
    ranker.remove([2])
    ranker.upsert([doc(3, "Dark colours", merged=True)])
    assert [i for i, _ in ranker.rank("dark mode", limit=10)] == [1]
    assert (len(ranker), 1 in ranker, 2 in ranker, 3 in ranker) == (1, True, False, False)
    ranker.upsert([doc(2, "Dark theme")])  # back after its removal was merged
    assert {i for i, _ in ranker.rank("dark mode", limit=10)} == {1, 2}
    ranker.clear()
    assert (len(ranker), ranker.rank("dark mode")) == (0, [])


def test_removal_before_any_merge_is_not_undone() -> None:
    ranker = DuplicateRanker()
    ranker.upsert([doc(1, "Dark mode"), doc(2, "Dark theme")])
    ranker.rank("dark")
    ranker.upsert([doc(1, "Dark mode again")])
    ranker.remove([1, 1, 5])
    ranker.remove([1])
    assert (len(ranker), 1 in ranker) == (1, False)
    assert [i for i, _ in ranker.rank("dark mode", limit=10)] == [2]


def test_new_ideas_alone_rank_as_a_ranker_built_at_once() -> None:
    rng = random.Random(3)
    first = [random_doc(rng, i) for i in range(40)]
    later = [random_doc(rng, i) for i in range(40, 55)]
    ranker = DuplicateRanker()
    ranker.upsert(first)
    rankings(ranker)
    ranker.upsert(later)
    fresh = DuplicateRanker()
    fresh.upsert(first + later)
    assert_same(rankings(ranker), rankings(fresh))


def test_gathering_a_few_entries_at_a_time_changes_no_score(monkeypatch) -> None:
    rng = random.Random(5)
    ranker = DuplicateRanker()
    ranker.upsert(random_doc(rng, i) for i in range(80))
    whole = rankings(ranker)
    monkeypatch.setattr(duplicates, "_GATHERED", 3)
    ranker.upsert([random_doc(rng, 200)])  # a new state: rankings are computed again
    ranker.remove([200])
    assert rankings(ranker) == whole
