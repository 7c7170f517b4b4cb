"""The incoming status hook: engineering's tools change an idea's status, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import StatusChange
from forum.notifications.models import Notification, OutboxMessage
from forum.webhooks import services as webhooks
from forum.webhooks import signing
from tests.hostile import fingerprint


@pytest.fixture
def hook(app, personas):
    made = webhooks.create_status_hook(personas["ada"], name="Release pipeline",
                                       github_status="shipped")
    db.session.commit()
    return made


def post(client, hook, payload, *, secret=None, at=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    signature = signing.sign(secret or hook.secret, int(at or time.time()), body)
    return client.post(f"/hooks/status/{hook.key}", data=body,
                       headers={"Content-Type": "application/json",
                                signing.SIGNATURE_HEADER: signature})


def test_a_signed_update_ships_the_idea_and_tells_its_voters(app, client, hook, personas,
                                                            make_idea, no_drift):
    idea = make_idea(author=personas["anna"])
    services.cast_vote(idea, personas["bob"])
    db.session.commit()
    response = post(client, hook, {"idea": idea.id, "status": "shipped",
                                   "release_notes": "Dark mode is in 2.4."})
    assert response.status_code == 200, response.json
    assert response.json["idea"]["status"] == "shipped"
    assert response.json["notified"] == 2
    db.session.expire_all()
    change = db.session.scalar(db.select(StatusChange).where(StatusChange.idea_id == idea.id))
    assert change.via == "webhook" and change.to_status.slug == "shipped"
    told = db.session.scalars(db.select(OutboxMessage.to_address)
                              .where(OutboxMessage.idea_id == idea.id)).all()
    assert sorted(told) == ["anna@example.com", "bob@example.com"]
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 2
    # The same history as any other change, shown on the idea page and in the API.
    history = client.get(f"/api/v1/ideas/{idea.id}/history").json
    assert history[-1]["to"] == "shipped"
    assert "Dark mode is in 2.4." in client.get("/changelog").text


@pytest.mark.parametrize("tamper", ["bad secret", "no header", "old", "future", "body changed"])
def test_a_bad_or_replayed_signature_changes_nothing(app, client, hook, personas, make_idea,
                                                     tamper):
    idea = make_idea(author=personas["anna"])
    payload = {"idea": idea.id, "status": "shipped"}
    body = json.dumps(payload).encode()
    before = fingerprint()
    if tamper == "bad secret":
        response = post(client, hook, payload, secret="whsec_guess")
    elif tamper == "no header":
        response = client.post(f"/hooks/status/{hook.key}", data=body,
                               headers={"Content-Type": "application/json"})
    elif tamper in ("old", "future"):
        # A captured request replayed outside the tolerance window.
        skew = app.config["WEBHOOK_TOLERANCE_SECONDS"] + 5
        response = post(client, hook, payload,
                        at=time.time() - skew if tamper == "old" else time.time() + skew)
    else:
        signature = signing.sign(hook.secret, int(time.time()), body)
        response = client.post(
            f"/hooks/status/{hook.key}", data=body.replace(b"shipped", b"declined"),
            headers={"Content-Type": "application/json", signing.SIGNATURE_HEADER: signature})
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized" and response.json["message"]
    assert fingerprint() == before


@pytest.mark.parametrize("payload, field", [
    ({"idea": 999999, "status": "shipped"}, "idea"),
    ({"idea": "twelve", "status": "shipped"}, "idea"),
    ({"status": "shipped"}, "idea"),
    ({"idea": "ID", "status": "teleported"}, "status"),
    ({"idea": "ID", "status": "shipped", "colour": "red"}, "colour"),
    ({"idea": "ID", "status": "declined"}, "note"),
])
def test_unknown_ideas_statuses_and_fields_are_422_and_change_nothing(
        app, client, hook, personas, make_idea, payload, field):
    idea = make_idea(author=personas["anna"])
    payload = {k: idea.id if v == "ID" else v for k, v in payload.items()}
    before = fingerprint()
    response = post(client, hook, payload)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid" and field in response.json["fields"]
    assert fingerprint() == before


def test_malformed_bodies_unknown_and_switched_off_hooks(app, client, hook, personas):
    assert post(client, hook, None, raw=b"{not json").status_code == 400
    assert post(client, hook, None, raw=b"[1, 2]").json["error"] == "bad_request"
    response = client.post("/hooks/status/nope", data=b"{}",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    webhooks.update_status_hook(hook, personas["ada"], name=hook.name, github_status="",
                                active=False)
    db.session.commit()
    assert post(client, hook, {"idea": 1, "status": "shipped"}).status_code == 404
    assert client.get(f"/hooks/status/{hook.key}").status_code == 405


def github(client, hook, event, payload, *, secret=None):
    body = json.dumps(payload).encode()
    digest = hmac.new((secret or hook.secret).encode(), body, hashlib.sha256).hexdigest()
    return client.post(f"/hooks/status/{hook.key}", data=body, headers={
        "Content-Type": "application/json", "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e", "X-Hub-Signature-256": f"sha256={digest}"})


def test_a_published_github_release_ships_the_ideas_it_mentions(app, client, hook, personas,
                                                                make_idea):
    first = make_idea("Dark mode", author=personas["anna"])
    second = make_idea("CSV export", author=personas["bob"])
    untouched = make_idea("Something else", author=personas["bob"])
    release = {"action": "published", "release": {
        "name": "v2.4", "html_url": "https://github.com/acme/app/releases/tag/v2.4",
        "body": f"- Ships idea #{first.id}\n- CSV export, see "
                f"https://feedback.example.com/ideas/{second.id}\n- Fixes #{untouched.id}"}}
    response = github(client, hook, "release", release)
    assert response.status_code == 200, response.json
    assert response.json["changed"] == [first.id, second.id]
    db.session.expire_all()
    assert [services.get_visible_idea(i.id, None).status.slug
            for i in (first, second, untouched)] == ["shipped", "shipped", "open"]
    change = db.session.scalar(db.select(StatusChange).where(StatusChange.idea_id == first.id))
    assert change.via == "webhook" and "releases/tag/v2.4" in change.note

    # GitHub redelivers: nothing moves twice.
    again = github(client, hook, "release", release)
    assert again.json == {"changed": [], "unchanged": [first.id, second.id], "notified": 0}
    # Other events and actions are acknowledged and ignored; GitHub's own signature is checked.
    assert github(client, hook, "release", {**release, "action": "created"}).status_code == 202
    assert github(client, hook, "ping", {"zen": "Keep it simple."}).status_code == 200
    before = fingerprint()
    assert github(client, hook, "release", release, secret="wrong").status_code == 401
    assert fingerprint() == before


def test_a_merged_pull_request_moves_its_ideas_and_an_unknown_one_refuses_all(
        app, client, hook, personas, make_idea):
    idea = make_idea(author=personas["anna"])
    pull = {"action": "closed", "pull_request": {
        "merged": True, "title": f"Dark mode (idea {idea.id})", "body": "",
        "html_url": "https://github.com/acme/app/pull/7"}}
    unmerged = {"action": "closed", "pull_request": {**pull["pull_request"], "merged": False}}
    assert github(client, hook, "pull_request", unmerged).status_code == 202
    typo = {"action": "closed", "pull_request": {**pull["pull_request"],
                                                 "body": "Also idea #999999"}}
    before = fingerprint()
    response = github(client, hook, "pull_request", typo)
    assert response.status_code == 422 and "idea" in response.json["fields"]
    assert fingerprint() == before
    assert github(client, hook, "pull_request", pull).json["changed"] == [idea.id]


def test_mentions_are_found_once_in_order():
    text = "Ships idea #12 and Idea 7; see /ideas/12 and https://x.test/ideas/30, not #5"
    assert webhooks.mentioned_ideas(text) == [12, 7, 30]
