"""Merge and unmerge by the rules of ARCHITECTURE.md, and the staff screens around them."""

from __future__ import annotations

import pytest

from forum import signals
from forum.errors import Conflict, NotAllowed
from forum.extensions import db
from forum.ideas import merging
from forum.ideas import services as ideas
from forum.ideas.models import Comment, DuplicateDismissal, Idea, Subscription, Vote
from forum.search import service


def rows(model, idea: Idea) -> set[int]:
    return set(db.session.scalars(db.select(model.id).where(model.idea_id == idea.id)))


def state(idea: Idea) -> tuple:
    db.session.refresh(idea)
    return (idea.vote_count, round(idea.trending_score, 9), idea.comment_count,
            idea.merged_into_id, idea.merged_at, idea.merged_by_id, idea.staff_acted_at,
            idea.status_id, idea.last_activity_at, idea.title, idea.body)


@pytest.fixture
def pair(make_idea, personas):
    """A (by Anna, voted by Bob) and B (by Fred, voted by Bob too): Bob voted on both."""
    a = make_idea("Export to CSV", author=personas["anna"])
    b = make_idea("CSV export of all ideas", author=personas["fred"])
    for idea in (a, b):
        ideas.cast_vote(idea, personas["bob"])
    ideas.post_comment(a, personas["bob"], "Needed for our monthly report.")
    ideas.post_comment(b, personas["fred"], "Excel would be fine too.")
    db.session.commit()
    return a, b


def test_merge_keeps_every_row_and_counts_distinct_voters(pair, personas, no_drift):
    a, b = pair
    before = {m: (rows(m, a), rows(m, b)) for m in (Vote, Comment, Subscription)}
    canonical = merging.merge_ideas(b, a, personas["pam"])
    db.session.commit()
    assert canonical is a and b.merged_into_id == a.id
    # Anna, Fred and Bob: Bob voted on both and counts once.
    assert a.vote_count == 3 == ideas.count_votes(a)
    for model, (on_a, on_b) in before.items():
        assert (rows(model, a), rows(model, b)) == (on_a, on_b), model
    assert a.comment_count == 1 and b.comment_count == 1


def test_unmerge_restores_both_ideas_exactly(pair, personas, no_drift):
    a, b = pair
    before = state(a), state(b)
    merging.merge_ideas(b, a, personas["pam"])
    db.session.commit()
    merging.unmerge_idea(b, personas["pam"])
    db.session.commit()
    assert (state(a), state(b)) == before
    assert a.vote_count == 2 and b.vote_count == 2


def test_chains_are_flattened_and_unmerge_takes_its_duplicates_back(make_idea, personas,
                                                                     no_drift):
    a, b, c = (make_idea(f"Calendar view number {n}") for n in range(3))
    ideas.cast_vote(c, personas["bob"])
    db.session.commit()
    merging.merge_ideas(c, b, personas["pam"])
    db.session.commit()
    assert b.vote_count == 3
    merging.merge_ideas(b, a, personas["pam"])
    db.session.commit()
    assert c.merged_into_id == a.id and b.merged_into_id == a.id  # one hop, always
    assert a.vote_count == 4
    merging.unmerge_idea(b, personas["pam"])
    db.session.commit()
    assert c.merged_into_id == b.id and b.merged_into_id is None
    assert (a.vote_count, b.vote_count) == (1, 3)


def test_merging_into_a_merged_idea_goes_to_its_canonical_idea(make_idea, personas, no_drift):
    a, b, c = (make_idea(f"Kanban board {n}") for n in range(3))
    merging.merge_ideas(b, a, personas["pam"])
    merging.merge_ideas(c, b, personas["pam"])
    db.session.commit()
    assert c.merged_into_id == a.id and a.vote_count == 3


def test_refused_merges(make_idea, personas):
    a, b = make_idea("Gantt chart"), make_idea("Gantt view")
    with pytest.raises(NotAllowed):
        merging.merge_ideas(b, a, personas["fred"])
    with pytest.raises(Conflict):
        merging.merge_ideas(a, a, personas["pam"])
    merging.merge_ideas(b, a, personas["pam"])
    with pytest.raises(Conflict):
        merging.merge_ideas(a, b, personas["pam"])  # b's canonical idea is a itself
    with pytest.raises(Conflict):
        merging.merge_ideas(b, a, personas["pam"])  # already merged
    with pytest.raises(Conflict):
        merging.unmerge_idea(a, personas["pam"])  # not merged
    with pytest.raises(NotAllowed):
        merging.unmerge_idea(b, personas["fred"])


def test_voting_on_a_merged_idea_votes_on_the_canonical_one(pair, personas, no_drift):
    a, b = pair
    merging.merge_ideas(b, a, personas["pam"])
    db.session.commit()
    target, added = ideas.cast_vote(b, personas["ada"])
    db.session.commit()
    assert target is a and added and a.vote_count == 4
    _, added = ideas.cast_vote(a, personas["bob"])  # already counted through both ideas
    assert not added


def test_signals_tell_other_modules(pair, personas):
    a, b = pair
    heard = []

    def merged(sender, **kwargs):
        heard.append(("merged", sender.id, kwargs["merged"].id, kwargs["by"].id))

    def unmerged(sender, **kwargs):
        heard.append(("unmerged", sender.id, kwargs["restored"].id, kwargs["by"].id))

    with signals.ideas_merged.connected_to(merged), signals.ideas_unmerged.connected_to(unmerged):
        merging.merge_ideas(b, a, personas["pam"])
        merging.unmerge_idea(b, personas["pam"])
    pam = personas["pam"].id
    assert heard == [("merged", a.id, b.id, pam), ("unmerged", a.id, b.id, pam)]


# --- pages -----------------------------------------------------------------------------------

def test_staff_merge_through_the_screens(client, auth, pair, personas, no_drift):
    a, b = pair
    auth.login("pam@example.com")
    page = client.get(f"/ideas/{b.id}").get_data(as_text=True)
    assert f"/ideas/{b.id}/merge" in page
    pick = client.get(f"/ideas/{b.id}/merge?q=export csv").get_data(as_text=True)
    assert f"/ideas/{b.id}/merge/{a.id}" in pick
    compare = client.get(f"/ideas/{b.id}/merge/{a.id}").get_data(as_text=True)
    assert "Export to CSV" in compare and "CSV export of all ideas" in compare
    response = client.post(f"/ideas/{b.id}/merge/{a.id}")
    assert response.status_code == 302 and response.location.endswith(f"/ideas/{a.id}")
    merged_page = client.get(f"/ideas/{b.id}").get_data(as_text=True)
    assert "This idea was merged into" in merged_page and f'href="/ideas/{a.id}"' in merged_page
    assert "Unmerge" in merged_page
    listing = client.get("/").get_data(as_text=True)
    assert "CSV export of all ideas" not in listing and "Export to CSV" in listing
    assert [i["id"] for i in client.get("/similar?title=CSV export").get_json()] == [a.id]
    assert client.post(f"/ideas/{b.id}/unmerge").status_code == 302
    db.session.expire_all()
    assert db.session.get(Idea, b.id).merged_into_id is None


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/ideas/{b}/merge"), ("get", "/ideas/{b}/merge/{a}"), ("post", "/ideas/{b}/merge/{a}"),
    ("post", "/ideas/{b}/unmerge"), ("get", "/duplicates"), ("post", "/duplicates/dismiss"),
])
def test_only_staff_merge(client, auth, pair, method, path):
    a, b = pair
    url = path.format(a=a.id, b=b.id)
    anonymous = getattr(client, method)(url, data={"first": a.id, "second": b.id})
    assert anonymous.status_code == 302 and "/signin" in anonymous.location
    auth.login("fred@example.com")
    assert getattr(client, method)(url, data={"first": a.id, "second": b.id}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Idea, b.id).merged_into_id is None
    assert db.session.scalar(db.select(db.func.count(DuplicateDismissal.id))) == 0
    assert "/duplicates" not in client.get("/").get_data(as_text=True)


def test_duplicates_queue_merge_and_not_a_duplicate(client, auth, make_idea, personas,
                                                    no_drift):
    old = make_idea("Invite teammates by email", "Send invitations to colleagues.")
    new = make_idea("Invite team mates via e-mail", "Invitations for colleagues.")
    other_old = make_idea("Archive old boards")
    other_new = make_idea("Archive finished boards")
    make_idea("Reactions with emoji")
    pairs = [(p.newer.id, p.older.id) for p in service.duplicate_queue(personas["pam"])]
    assert (new.id, old.id) in pairs and (other_new.id, other_old.id) in pairs
    auth.login("pam@example.com")
    page = client.get("/duplicates").get_data(as_text=True)
    assert "Invite team mates via e-mail" in page and "Not a duplicate" in page
    assert f"/ideas/{new.id}/merge/{old.id}?from=queue" in page
    client.post("/duplicates/dismiss", data={"first": other_new.id, "second": other_old.id})
    client.post("/duplicates/dismiss", data={"first": other_old.id, "second": other_new.id})
    assert db.session.scalar(db.select(db.func.count(DuplicateDismissal.id))) == 1
    response = client.post(f"/ideas/{new.id}/merge/{old.id}", data={"from": "queue"})
    assert response.location.endswith("/duplicates")
    pairs = [(p.newer.id, p.older.id) for p in service.duplicate_queue(personas["pam"])]
    assert (other_new.id, other_old.id) not in pairs and (new.id, old.id) not in pairs
    assert old.vote_count == 2


def test_the_queue_is_for_staff_only(personas):
    with pytest.raises(NotAllowed):
        service.duplicate_queue(personas["anna"])
