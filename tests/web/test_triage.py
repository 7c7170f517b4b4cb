"""The team's triage actions, each through the page a product manager uses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.accounts.models import User
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import merging
from forum.ideas import services as ideas
from forum.ideas.models import Board, Comment, Idea, Status, Tag, Visibility, Vote, VoteSource
from forum.triage import services as triage
from forum.triage.models import AuditEntry, SavedView


@pytest.fixture
def pam(personas, auth):
    auth.login("pam@example.com")
    return personas["pam"]


def _tag(slug: str, name: str) -> Tag:
    tag = Tag(slug=slug, name=name)
    db.session.add(tag)
    db.session.commit()
    return tag


def _status(slug: str) -> Status:
    return db.session.scalar(db.select(Status).where(Status.slug == slug))


def test_inbox_lists_untouched_ideas_newest_first(client, pam, make_idea, personas):
    old = make_idea("Old idea")
    old.created_at = utcnow() - timedelta(days=3)
    acted = make_idea("Already triaged")
    acted.staff_acted_at = utcnow()
    db.session.commit()
    make_idea("Brand new idea")
    page = client.get("/staff/inbox").text
    assert page.index("Brand new idea") < page.index("Old idea")
    assert "Already triaged" not in page
    assert "Already triaged" in client.get("/staff/ideas").text


def test_marking_reviewed_takes_an_idea_out_of_the_inbox(client, pam, make_idea, no_drift):
    idea = make_idea("Needs a look")
    response = client.post("/staff/ideas/bulk", data={"ids": [idea.id], "action": "reviewed"})
    assert response.status_code == 302
    assert db.session.get(Idea, idea.id).staff_acted_at is not None
    assert "Needs a look" not in client.get("/staff/inbox").text


def test_staff_comment_counts_as_acting(client, pam, make_idea):
    idea = make_idea("Question")
    client.post(f"/ideas/{idea.id}/comments", data={"body": "Which plan are you on?"})
    assert "Question" not in client.get("/staff/inbox").text


def test_bulk_status_change_needs_a_note_to_decline_and_changes_nothing_without(
        client, pam, make_idea, no_drift):
    one, two = make_idea("One"), make_idea("Two")
    response = client.post("/staff/ideas/bulk", data={"ids": [one.id, two.id],
                                                      "action": "status", "value": "declined"})
    assert response.status_code == 302
    assert "required" in client.get("/staff/inbox").text
    db.session.expire_all()
    assert {db.session.get(Idea, i).status.slug for i in (one.id, two.id)} == {"open"}
    client.post("/staff/ideas/bulk", data={"ids": [one.id, two.id], "action": "status",
                                           "value": "declined", "note": "Out of scope."})
    db.session.expire_all()
    assert {db.session.get(Idea, i).status.slug for i in (one.id, two.id)} == {"declined"}
    assert ideas.status_history(db.session.get(Idea, one.id))[-1].note == "Out of scope."


def test_bulk_board_tag_and_owner(client, pam, make_idea, personas):
    mobile = Board(slug="mobile", name="Mobile")
    db.session.add(mobile)
    tag = _tag("reporting", "Reporting")
    one, two = make_idea("One"), make_idea("Two")
    ids = [one.id, two.id]
    client.post("/staff/ideas/bulk", data={"ids": ids, "action": "board", "value": "mobile"})
    client.post("/staff/ideas/bulk", data={"ids": ids, "action": "add_tag", "value": "reporting"})
    client.post("/staff/ideas/bulk", data={"ids": ids, "action": "owner",
                                           "value": str(personas["pam"].id)})
    db.session.expire_all()
    for idea_id in ids:
        idea = db.session.get(Idea, idea_id)
        assert (idea.board.slug, [t.slug for t in idea.tags], idea.owner_id) == (
            "mobile", ["reporting"], personas["pam"].id)
    client.post("/staff/ideas/bulk", data={"ids": [one.id], "action": "remove_tag",
                                           "value": tag.slug})
    client.post("/staff/ideas/bulk", data={"ids": [one.id], "action": "owner", "value": "none"})
    db.session.expire_all()
    assert db.session.get(Idea, one.id).tags == []
    assert db.session.get(Idea, one.id).owner_id is None


def test_owner_must_be_on_the_team(client, pam, make_idea, personas):
    idea = make_idea()
    client.post(f"/staff/ideas/{idea.id}/owner", data={"owner": personas["anna"].id})
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).owner_id is None


@pytest.mark.parametrize(("args", "expected"), [
    ("board=mobile", {"On mobile"}),
    ("status=planned", {"Planned one"}),
    ("tag=reporting", {"Tagged one"}),
    ("owner=none", {"On mobile", "Planned one", "Tagged one", "Popular one"}),
    ("min_votes=3", {"Popular one"}),
    ("voter=bob@example.com", {"Popular one"}),
    ("from=2020-01-01&to=2020-01-31", {"Owned one"}),
])
def test_filters(client, pam, make_idea, personas, make_user, args, expected):
    mobile = Board(slug="mobile", name="Mobile")
    db.session.add(mobile)
    db.session.commit()
    make_idea("On mobile", board=mobile)
    planned = make_idea("Planned one")
    planned.status = _status("planned")
    tagged = make_idea("Tagged one")
    tagged.tags = [_tag("reporting", "Reporting")]
    owned = make_idea("Owned one")
    owned.owner = personas["pam"]
    owned.created_at = owned.created_at.replace(year=2020, month=1, day=15)
    popular = make_idea("Popular one")
    for voter in (personas["bob"], make_user()):
        ideas.cast_vote(popular, voter)
    db.session.commit()
    page = client.get(f"/staff/ideas?{args}").text
    titles = {"On mobile", "Planned one", "Tagged one", "Owned one", "Popular one"}
    assert {t for t in titles if t in page} == expected


def test_voted_by_customer_looks_through_merged_duplicates(client, pam, make_idea, personas):
    canonical, duplicate = make_idea("Canonical"), make_idea("Duplicate")
    ideas.cast_vote(duplicate, personas["bob"])
    duplicate.merged_into = canonical
    db.session.commit()
    assert "Canonical" in client.get("/staff/ideas?voter=BOB@example.com").text


def test_bad_filter_values_are_explained(client, pam):
    response = client.get("/staff/ideas?min_votes=lots&from=yesterday")
    assert response.status_code == 422
    assert "A whole number." in response.text and "A date like" in response.text


def test_saved_views_are_per_person(client, auth, pam, personas):
    client.post("/staff/views", data={"name": "Mobile, no owner", "board": "mobile",
                                      "owner": "none"})
    view = db.session.scalar(db.select(SavedView))
    assert (view.user_id, view.query) == (personas["pam"].id, "board=mobile&owner=none")
    assert "Mobile, no owner" in client.get("/staff/inbox").text
    auth.logout()
    auth.login("ada@example.com")
    assert "Mobile, no owner" not in client.get("/staff/inbox").text
    assert client.post(f"/staff/views/{view.id}/delete").status_code == 404


def test_value_for_effort_is_shown_and_sorts(client, pam, make_idea, make_user):
    cheap, dear = make_idea("Cheap win"), make_idea("Costly")
    make_idea("Unrated")
    for _ in range(2):
        ideas.cast_vote(dear, make_user())
    db.session.commit()
    client.post(f"/staff/ideas/{cheap.id}/priority", data={"impact": "4", "effort": "1"})
    client.post(f"/staff/ideas/{dear.id}/priority", data={"impact": "2", "effort": "5"})
    page = client.get(f"/ideas/{cheap.id}").text
    assert "voters \u00d7 impact \u00f7 effort" in page
    assert "1 \u00d7 4 \u00f7 1" in page and "<strong data-score>4</strong>" in page
    listing = client.get("/staff/ideas?sort=value").text
    assert listing.index("Cheap win") < listing.index("Costly") < listing.index("Unrated")


def test_ratings_outside_one_to_five_are_refused(client, pam, make_idea):
    idea = make_idea()
    client.post(f"/staff/ideas/{idea.id}/priority", data={"impact": "9", "effort": "1"})
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).impact is None


def test_staff_edit_and_hide_leave_an_audit_trail(client, auth, pam, make_idea, personas):
    idea = make_idea("Typo in tilte", author=personas["anna"])
    client.post(f"/ideas/{idea.id}/edit", data={"title": "Typo in title",
                                                "body": idea.body, "board": idea.board_id})
    client.post(f"/staff/ideas/{idea.id}/hide", data={"reason": "Off topic"})
    page = client.get(f"/ideas/{idea.id}").text
    assert "Audit trail" in page and "idea.edit" in page and "Typo in tilte" in page
    assert "idea.hide" in page and "Hidden from customers since" in page
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id) for e in entries] == [
        ("idea.edit", personas["pam"].id), ("idea.hide", personas["pam"].id)]
    assert entries[0].before == {"title": "Typo in tilte"}
    auth.logout()
    auth.login("anna@example.com")
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    assert "Typo in title" not in client.get("/").text
    assert db.session.get(Idea, idea.id) is not None  # hidden, never deleted


def test_hidden_and_edited_comments(client, auth, pam, make_idea, personas):
    idea = make_idea()
    comment = ideas.post_comment(idea, personas["fred"], "Call me on 555-0100")
    db.session.commit()
    response = client.post(f"/staff/comments/{comment.id}/edit", data={"body": ""})
    assert response.status_code == 422
    client.post(f"/staff/comments/{comment.id}/edit", data={"body": "[number removed]"})
    client.post(f"/staff/comments/{comment.id}/hide")
    staff_page = client.get(f"/ideas/{idea.id}").text
    assert "[number removed]" in staff_page and "Hidden from customers" in staff_page
    assert "555-0100" in staff_page  # the original, in the audit trail
    auth.logout()
    auth.login("anna@example.com")
    assert "[number removed]" not in client.get(f"/ideas/{idea.id}").text
    assert db.session.get(Comment, comment.id).body == "[number removed]"


def test_internal_notes_are_marked_and_staff_only(client, auth, pam, make_idea):
    idea = make_idea()
    client.post(f"/ideas/{idea.id}/comments", data={"body": "Acme asked too", "internal": "1"})
    assert "Internal note: only the team sees this" in client.get(f"/ideas/{idea.id}").text
    auth.logout()
    auth.login("anna@example.com")
    assert "Acme asked too" not in client.get(f"/ideas/{idea.id}").text


def test_vote_on_behalf_creates_the_account_and_shows_on_the_voter_list(
        client, pam, make_idea, personas, no_drift):
    from forum import signals

    heard = []
    signals.vote_cast.connect(lambda sender, **kw: heard.append(kw["source"]), weak=False)
    idea = make_idea("SSO with Okta")
    response = client.post(f"/staff/ideas/{idea.id}/votes",
                           data={"email": "Cto@Bigcorp.example", "name": "Carla CTO",
                                 "source": "sales"})
    assert response.status_code == 302
    carla = db.session.scalar(db.select(User).where(User.email == "cto@bigcorp.example"))
    assert carla.password_hash is None and carla.name == "Carla CTO"
    vote = db.session.scalar(db.select(Vote).where(Vote.user_id == carla.id))
    assert (vote.source, vote.added_by_id) == (VoteSource.SALES, personas["pam"].id)
    assert db.session.get(Idea, idea.id).vote_count == 2
    assert heard[-1] == VoteSource.SALES
    page = client.get(f"/ideas/{idea.id}").text
    assert "cto@bigcorp.example" in page and "Sales" in page and "Pam" in page
    # Twice is once.
    client.post(f"/staff/ideas/{idea.id}/votes", data={"email": "cto@bigcorp.example",
                                                       "source": "support"})
    assert db.session.get(Idea, idea.id).vote_count == 2
    # A customer whose account exists keeps it.
    client.post(f"/staff/ideas/{idea.id}/votes", data={"email": "bob@example.com"})
    assert db.session.get(Idea, idea.id).vote_count == 3
    assert len(triage.voters(idea)) == 3


def test_vote_on_behalf_refuses_a_bad_address(client, pam, make_idea):
    idea = make_idea()
    client.post(f"/staff/ideas/{idea.id}/votes", data={"email": "not an email"})
    assert "not valid" in client.get(f"/ideas/{idea.id}").text
    assert db.session.get(Idea, idea.id).vote_count == 1


def test_tags_create_rename_recolour_delete(client, pam, make_idea):
    idea = make_idea()
    client.post("/staff/tags", data={"name": "Reporting", "color": "#ff0000"})
    tag = db.session.scalar(db.select(Tag))
    client.post(f"/staff/ideas/{idea.id}/tags", data={"tags": [tag.id]})
    client.post(f"/staff/tags/{tag.id}", data={"name": "Reports", "color": "#00ff00"})
    db.session.expire_all()
    assert (tag.slug, tag.name, tag.color) == ("reporting", "Reports", "#00ff00")
    assert "Reports" in client.get("/?tag=reporting").text
    client.post(f"/staff/tags/{tag.id}", data={"name": "Reports", "color": "red"})
    db.session.expire_all()
    assert tag.color == "#00ff00"
    client.post(f"/staff/tags/{tag.id}/delete")
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).tags == []


def test_public_list_shows_and_filters_by_tag(client, make_idea):
    tagged = make_idea("Tagged idea")
    make_idea("Plain idea")
    tagged.tags = [_tag("mobile", "Mobile")]
    db.session.commit()
    page = client.get("/?tag=mobile").text
    assert "Tagged idea" in page and "Plain idea" not in page
    assert 'fill="#64748b"' in page  # the tag's colour, as an SVG attribute (CSP-safe)


def test_boards_create_rename_describe_reorder_and_visibility(client, auth, personas):
    auth.login("ada@example.com")
    client.post("/admin/boards", data={"name": "Roadmap secrets", "description": "Internal",
                                       "visibility": "staff"})
    board = db.session.scalar(db.select(Board).where(Board.slug == "roadmap-secrets"))
    assert (board.visibility, board.description) == (Visibility.STAFF, "Internal")
    client.post(f"/admin/boards/{board.id}", data={"name": "Beta", "description": "For testers",
                                                   "visibility": "members"})
    db.session.expire_all()
    assert (board.slug, board.name, board.visibility) == ("roadmap-secrets", "Beta",
                                                          Visibility.MEMBERS)
    client.post(f"/admin/boards/{board.id}/move", data={"direction": "up"})
    db.session.expire_all()
    assert [b.slug for b in triage.all_boards()] == ["roadmap-secrets", "general"]
    response = client.post(f"/admin/boards/{board.id}", data={"name": "", "visibility": "x"})
    assert response.status_code == 302
    db.session.expire_all()
    assert board.name == "Beta"


def test_the_idea_page_shows_the_team_panel_only_to_the_team(client, auth, make_idea, personas):
    idea = make_idea()
    auth.login("anna@example.com")
    assert "Team tools" not in client.get(f"/ideas/{idea.id}").text
    auth.logout()
    auth.login("pam@example.com")
    assert "Team tools" in client.get(f"/ideas/{idea.id}").text


def test_inbox_documents_keyboard_shortcuts_and_loads_its_script(client, pam, make_idea):
    make_idea()
    page = client.get("/staff/inbox").text
    assert "Keyboard shortcuts" in page and "<kbd>j</kbd>" in page
    assert "/static/js/triage.js" in page


def test_internal_notes_show_in_the_triage_list(client, pam, make_idea):
    idea = make_idea("Needs context")
    client.post(f"/ideas/{idea.id}/comments", data={"body": "Acme churned over this",
                                                    "internal": "1"})
    page = client.get("/staff/ideas").text
    assert "Internal note" in page and "Acme churned over this" in page


def test_the_idea_page_forms(client, pam, make_idea, personas, no_drift):
    idea = make_idea("Single idea", author=personas["anna"])
    mobile = Board(slug="mobile", name="Mobile")
    db.session.add(mobile)
    db.session.commit()
    client.post(f"/staff/ideas/{idea.id}/reviewed")
    assert db.session.get(Idea, idea.id).staff_acted_at is not None
    client.post(f"/staff/ideas/{idea.id}/status", data={"status": "declined"})
    assert "A public note is required" in client.get(f"/ideas/{idea.id}").text
    client.post(f"/staff/ideas/{idea.id}/status", data={"status": "planned", "note": "Q3"})
    client.post(f"/staff/ideas/{idea.id}/board", data={"board": mobile.id})
    client.post(f"/staff/ideas/{idea.id}/hide")
    client.post(f"/staff/ideas/{idea.id}/unhide")
    db.session.expire_all()
    idea = db.session.get(Idea, idea.id)
    assert (idea.status.slug, idea.board.slug, idea.hidden_at) == ("planned", "mobile", None)
    actions = [e.action for e in triage.audit_trail(idea)]
    assert actions == ["idea.unhide", "idea.hide", "idea.edit", "idea.status", "idea.reviewed"]


def _state(*ideas_: Idea) -> list[tuple]:
    db.session.expire_all()
    return [(i.id, db.session.get(Idea, i.id).merged_into_id,
             db.session.get(Idea, i.id).vote_count) for i in ideas_]


def test_bulk_merge_into_an_idea_named_by_its_number(client, pam, make_idea, personas,
                                                      no_drift):
    target, one, two = make_idea("Export to CSV"), make_idea("CSV export"), make_idea("csv pls")
    ideas.cast_vote(one, personas["bob"])
    ideas.cast_vote(two, personas["bob"])
    db.session.commit()
    response = client.post("/staff/ideas/bulk/merge",
                           data={"ids": [one.id, two.id], "into": f"#{target.id}"})
    assert response.status_code == 302
    assert "2 ideas merged into “Export to CSV”" in client.get("/staff/inbox").text
    db.session.expire_all()
    assert [db.session.get(Idea, i.id).merged_into_id for i in (one, two)] == [target.id] * 2
    # Each author's own vote and Bob's two votes: Bob is counted once.
    people = {target.author_id, one.author_id, two.author_id, personas["bob"].id}
    assert db.session.get(Idea, target.id).vote_count == len(people)


def test_bulk_merge_by_words_offers_the_matching_ideas(client, pam, make_idea):
    target, dup = make_idea("Dark mode for the dashboard"), make_idea("Night theme")
    page = client.post("/staff/ideas/bulk/merge", data={"ids": [dup.id], "into": "dark mode"})
    assert page.status_code == 200
    assert f'name="into" value="{target.id}"' in page.text
    assert f'name="into" value="{dup.id}"' not in page.text  # not into itself
    assert f'name="ids" value="{dup.id}"' in page.text       # the selection is kept
    client.post("/staff/ideas/bulk/merge", data={"ids": [dup.id], "into": str(target.id)})
    assert _state(dup) == [(dup.id, target.id, 1)]


@pytest.mark.parametrize("problem", ["in_selection", "hidden", "staff_board", "unknown",
                                     "already_merged"])
def test_bulk_merge_refusals_say_why_and_change_nothing(client, pam, make_idea, personas,
                                                        problem, no_drift):
    target, one, two = make_idea("Target idea"), make_idea("First dup"), make_idea("Second dup")
    into, expected = str(target.id), "Target idea"
    if problem == "in_selection":
        into, expected = str(two.id), "is one of the selected ideas"
    elif problem == "hidden":
        target.hidden_at = utcnow()
        expected = "hidden from customers"
    elif problem == "staff_board":
        inner = Board(slug="inner", name="Inner", visibility=Visibility.STAFF)
        db.session.add(inner)
        target.board = inner
        expected = "its voters could not follow their vote"
    elif problem == "unknown":
        into, expected = "999999", "Name the idea to merge into"
    else:
        merging.merge_ideas(two, make_idea("Elsewhere"), personas["pam"])
        expected = "already merged"
    db.session.commit()
    before = _state(target, one, two)
    response = client.post("/staff/ideas/bulk/merge", data={"ids": [one.id, two.id],
                                                            "into": into})
    assert response.status_code == 302
    assert expected in client.get("/staff/inbox").text.replace("&#34;", '"')
    assert _state(target, one, two) == before


@pytest.mark.parametrize("path", ["/staff/inbox", "/staff/ideas"])
@pytest.mark.parametrize("sort", ["top", "trending", "new", "activity"])
def test_filters_work_together_with_every_sort(client, pam, make_idea, make_user, personas,
                                               path, sort):
    """Voted by a customer, a date range, no owner and a vote threshold, all at once: the
    ideas that pass every filter, in the order of the chosen sort."""
    bob, now = personas["bob"], utcnow()
    made = {}
    # (title, extra voters, days ago posted, hours since last activity, owned)
    for title, extra, age, quiet, owned in [
        ("Alpha", 3, 2, 5, False), ("Bravo", 1, 3, 1, False), ("Charlie", 2, 1, 9, False),
        ("Owned", 4, 2, 0, True), ("Too old", 4, 40, 0, False), ("Few votes", 0, 2, 0, False),
    ]:
        idea = make_idea(title)
        for _n in range(extra):
            ideas.cast_vote(idea, make_user())
        if title != "Few votes":
            ideas.cast_vote(idea, bob)
        idea.created_at = now - timedelta(days=age)
        idea.last_activity_at = now - timedelta(hours=quiet)
        idea.owner = personas["pam"] if owned else None
        made[title] = idea
    made["Bravo"].trending_score = 1e9  # a burst of recent votes, whatever the total
    db.session.commit()
    since = (now - timedelta(days=7)).date().isoformat()
    page = client.get(f"{path}?voter=bob@example.com&owner=none&min_votes=2&from={since}"
                      f"&sort={sort}").text
    shown = sorted((t for t in made if f">{t}</a>" in page), key=page.index)
    expected = {"top": ["Alpha", "Charlie", "Bravo"], "trending": ["Bravo", "Alpha", "Charlie"],
                "new": ["Charlie", "Alpha", "Bravo"],
                "activity": ["Bravo", "Alpha", "Charlie"]}[sort]
    assert shown == expected
    assert f'<option value="{sort}" selected>' in page
