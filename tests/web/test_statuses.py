"""Statuses as data, the staff status-change screen, the timeline and the roadmap."""

from __future__ import annotations

import pytest

from forum.changelog.models import ChangelogEntry
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Idea, Status, StatusChange, SubscriptionLevel


def status(slug: str) -> Status:
    db.session.expire_all()
    return db.session.scalar(db.select(Status).where(Status.slug == slug))


@pytest.mark.parametrize("path", ["/admin/statuses", "/admin/statuses/1",
                                  "/admin/statuses/1/move", "/admin/statuses/1/retire"])
@pytest.mark.parametrize("who", ["fred@example.com", "pam@example.com"])
def test_only_admins_manage_statuses(client, auth, personas, path, who):
    auth.login(who)
    assert client.post(path, data={"name": "Hacked", "color": "#000000"}).status_code == 403
    assert status("open").name == "Open"


def test_admin_adds_renames_recolours_reorders_and_retires(client, auth, personas):
    auth.login("ada@example.com")
    response = client.post("/admin/statuses", data={
        "name": "Needs more info", "kind": "open", "color": "#0EA5E9", "on_roadmap": "y"},
        follow_redirects=True)
    assert "Status “Needs more info” added." in response.text
    added = status("needs_more_info")
    assert added.kind.value == "open" and added.color == "#0ea5e9" and added.on_roadmap

    client.post(f"/admin/statuses/{added.id}", data={"name": "Waiting for you",
                                                     "color": "#111111"})
    renamed = status("needs_more_info")
    assert renamed.name == "Waiting for you" and renamed.color == "#111111"
    assert not renamed.on_roadmap

    last = renamed.position
    client.post(f"/admin/statuses/{renamed.id}/move", data={"direction": "up"})
    assert status("needs_more_info").position == last - 1
    assert status("declined").position == last

    client.post(f"/admin/statuses/{renamed.id}/retire", data={"retired": "1"})
    assert status("needs_more_info").retired
    page = client.get("/admin/statuses").text
    assert "(retired)" in page


def test_bad_status_input_is_refused_and_changes_nothing(client, auth, personas):
    auth.login("ada@example.com")
    response = client.post("/admin/statuses", data={"name": "Planned", "kind": "active",
                                                     "color": "#123456"})
    assert response.status_code == 422 and "already exists" in response.text
    response = client.post("/admin/statuses", data={"name": "Odd", "kind": "open",
                                                     "color": "red"})
    assert response.status_code == 422 and "#1a2b3c" in response.text
    default = status("open")
    client.post(f"/admin/statuses/{default.id}/retire", data={"retired": "1"})
    assert not status("open").retired  # new ideas start there
    assert db.session.scalar(db.select(db.func.count(Status.id))) == 6


def test_roadmap_shows_the_chosen_statuses_with_votes(client, personas, make_idea):
    planned = make_idea("Planned thing", author=personas["bob"])
    services.cast_vote(planned, personas["anna"])
    services.change_status(planned, services.find_status("planned"), personas["pam"])
    declined = make_idea("Declined thing", author=personas["bob"])
    services.change_status(declined, services.find_status("declined"), personas["pam"],
                           note="Out of scope.")
    db.session.commit()
    page = client.get("/roadmap").text
    assert "Planned thing" in page and "Declined thing" not in page
    assert 'id="column-planned"' in page and 'id="column-declined"' not in page
    assert '<span class="votes" title="votes">2<' in page


def test_status_screen_previews_who_will_be_told(client, auth, personas, make_user,
                                                 make_idea):
    idea = make_idea(author=personas["bob"])
    for n in range(3):
        services.cast_vote(idea, make_user(f"Voter {n}"))
    quiet = make_user("Quiet")
    services.cast_vote(idea, quiet)
    services.set_subscription(idea, quiet, SubscriptionLevel.NONE)
    services.set_subscription(idea, personas["fred"], SubscriptionLevel.ALL)
    db.session.commit()
    auth.login("pam@example.com")
    page = client.get(f"/ideas/{idea.id}/status?status=planned").text
    # bob (author) and three voters; fred follows without voting; quiet opted out.
    assert "4 voters, 1 follower, 1 opted out" in page
    assert "Confirm and notify" in page


def test_declining_needs_a_note_and_shipping_publishes_release_notes(client, auth, personas,
                                                                     make_idea):
    idea = make_idea(author=personas["bob"])
    auth.login("pam@example.com")
    refused = client.post(f"/ideas/{idea.id}/status", data={"status": "declined"})
    assert refused.status_code == 422 and "A public note is required" in refused.text
    assert db.session.scalar(db.select(db.func.count(StatusChange.id))) == 0

    done = client.post(f"/ideas/{idea.id}/status", data={
        "status": "shipped", "note": "Released today.",
        "release_notes": "**Dark mode** is here."}, follow_redirects=True)
    assert "The idea is now Shipped; 1 person will be told." in done.text
    entry = db.session.scalar(db.select(ChangelogEntry))
    assert entry.title == idea.title and [i.id for i in entry.ideas] == [idea.id]
    changelog = client.get("/changelog").text
    assert "<strong>Dark mode</strong> is here." in changelog


def test_customers_cannot_change_status(client, auth, personas, make_idea):
    idea = make_idea(author=personas["fred"])
    auth.login("fred@example.com")
    assert client.get(f"/ideas/{idea.id}/status").status_code == 403
    assert client.post(f"/ideas/{idea.id}/status", data={"status": "shipped"}).status_code == 403
    assert db.session.get(Idea, idea.id).status.slug == "open"


def test_forbidden_moves_and_retired_statuses_are_refused(client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    services.change_status(idea, services.find_status("shipped"), personas["pam"])
    db.session.commit()
    auth.login("pam@example.com")
    response = client.post(f"/ideas/{idea.id}/status", data={"status": "declined",
                                                              "note": "No."})
    assert response.status_code == 409 and "reopen it first" in response.text
    assert db.session.get(Idea, idea.id).status.slug == "shipped"


def test_the_timeline_shows_every_change_with_its_note_and_reach(client, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, personas["anna"])
    services.change_status(idea, services.find_status("planned"), personas["pam"],
                           note="On the list for spring.")
    services.change_status(idea, services.find_status("declined"), personas["pam"],
                           note="Sadly, we changed course.")
    services.change_status(idea, services.find_status("open"), personas["pam"],
                           note="Reopened after your feedback.")
    db.session.commit()
    page = client.get(f"/ideas/{idea.id}").text
    timeline = page[page.index("Status history"):page.index('id="comments"')]
    assert (timeline.index("On the list for spring.") < timeline.index("Sadly, we changed")
            < timeline.index("Reopened after"))
    assert timeline.count("2 people notified") == 3
    assert 'data-status="planned"' in timeline and 'data-status="declined"' in timeline


PROTECTED = [("get", "/notifications"), ("post", "/notifications/read"),
             ("get", "/settings/notifications"), ("post", "/settings/notifications"),
             ("get", "/admin/mail"), ("post", "/admin/mail"), ("post", "/admin/mail/1/retry"),
             ("get", "/admin/statuses"), ("post", "/admin/statuses"),
             ("get", "/ideas/{id}/status"), ("post", "/ideas/{id}/status")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_anonymous_is_sent_to_sign_in(client, make_idea, method, path):
    idea = make_idea()
    response = getattr(client, method)(path.format(id=idea.id))
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


@pytest.fixture
def csrf_client(app_config, personas):
    from forum import create_app

    return create_app({**app_config, "WTF_CSRF_ENABLED": True}).test_client()


@pytest.mark.parametrize("path", ["/password/forgot", "/notifications/read",
                                  "/settings/notifications", "/admin/mail",
                                  "/admin/statuses", "/ideas/1/status"])
def test_forms_need_a_csrf_token(csrf_client, path):
    response = csrf_client.post(path, data={"email": "anna@example.com", "status": "planned"})
    assert response.status_code == 400 and "This form had expired" in response.text


def test_status_colours_reach_the_pages_through_a_stylesheet(client, auth, personas):
    auth.login("ada@example.com")
    planned = status("planned")
    client.post(f"/admin/statuses/{planned.id}", data={"name": "Planned", "color": "#abcdef",
                                                       "on_roadmap": "y"})
    css = client.get("/statuses.css")
    assert css.content_type.startswith("text/css")
    assert '[data-status="planned"]{--status-color:#abcdef}' in css.text
    assert 'href="/statuses.css"' in client.get("/").text
