"""The admins' webhooks page (/admin/webhooks), through the app."""

from __future__ import annotations

import re
import time

import pytest

from forum.extensions import db
from forum.webhooks import delivery, signing
from forum.webhooks.models import DeliveryState, StatusHook, WebhookDelivery, WebhookEndpoint
from tests.conftest import PASSWORD
from tests.hostile import fingerprint
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def secret_on(page: str) -> str:
    return re.search(r'class="token-secret">(whsec_[\w-]+)<', page).group(1)


def test_an_admin_creates_tests_edits_and_deletes_a_webhook(app, client, auth, personas,
                                                            receiver):
    auth.login("ada@example.com")
    assert 'href="/admin/webhooks"' in client.get("/admin/webhooks").text  # in the admin nav
    page = client.post("/admin/webhooks", data={
        "name": "Slack #product", "url": receiver.url,
        "events": ["idea.created", "idea.status_changed"], "active": "y"})
    assert page.status_code == 200 and "Copy it now" in page.text
    secret = secret_on(page.text)
    endpoint = db.session.scalar(db.select(WebhookEndpoint))
    assert endpoint.secret == secret and endpoint.events == ["idea.created",
                                                             "idea.status_changed"]
    assert endpoint.active and not endpoint.include_private
    assert secret not in client.get("/admin/webhooks").text  # shown once
    assert secret not in client.get(f"/admin/webhooks/{endpoint.id}").text

    # "Send a test event": a signed ping, shown in the endpoint's log.
    client.post(f"/admin/webhooks/{endpoint.id}/test")
    assert delivery.deliver_due().delivered == 1
    ping = receiver.received[0]
    assert ping.event == "ping" and ping.json["data"]["by"]["name"] == "Ada"
    signing.verify(secret, ping.headers[signing.SIGNATURE_HEADER], ping.body,
                   now=int(time.time()), tolerance=60)
    log = client.get(f"/admin/webhooks/{endpoint.id}").text
    assert ping.json["delivery"] in log and "delivered" in log and ">204<" in log

    # Edit: switched off and including private boards.
    response = client.post(f"/admin/webhooks/{endpoint.id}", data={
        "name": "Slack #product", "url": receiver.url, "events": ["vote.created"],
        "include_private": "y"})
    assert response.status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.events == ["vote.created"] and endpoint.include_private
    assert not endpoint.active
    assert "Switched off" in client.get("/admin/webhooks").text

    # A new secret replaces the old one, shown once.
    rotated = secret_on(client.post(f"/admin/webhooks/{endpoint.id}/secret").text)
    db.session.refresh(endpoint)
    assert rotated != secret and endpoint.secret == rotated

    client.post(f"/admin/webhooks/{endpoint.id}/delete")
    assert db.session.scalar(db.select(db.func.count(WebhookEndpoint.id))) == 0
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "example.com",
                                 "http://", "http://exa mple.com", "https://x.test:port/"])
def test_only_http_urls_are_accepted(app, client, auth, personas, url):
    auth.login("ada@example.com")
    before = fingerprint()
    response = client.post("/admin/webhooks", data={"name": "Bad", "url": url,
                                                    "events": ["idea.created"]})
    assert response.status_code == 422
    assert "Use an http:// or https:// address" in response.text
    assert fingerprint() == before


def test_events_must_be_chosen_from_the_list(app, client, auth, personas):
    auth.login("ada@example.com")
    before = fingerprint()
    for events in ([], ["idea.deleted"]):
        response = client.post("/admin/webhooks", data={
            "name": "CI", "url": "https://ci.example.com/hook", "events": events})
        assert response.status_code == 422
    assert fingerprint() == before


def test_an_admin_makes_a_status_hook_and_sees_its_address_once(app, client, auth, personas):
    auth.login("ada@example.com")
    page = client.post("/admin/status-hooks", data={"name": "Release pipeline",
                                                    "github_status": "shipped"})
    assert page.status_code == 200
    hook = db.session.scalar(db.select(StatusHook))
    assert secret_on(page.text) == hook.secret and hook.github_status.slug == "shipped"
    assert f"http://127.0.0.1:5000/hooks/status/{hook.key}" in page.text
    assert hook.secret not in client.get("/admin/webhooks").text

    client.post(f"/admin/status-hooks/{hook.id}", data={"name": "CI", "github_status": ""})
    db.session.refresh(hook)
    assert hook.name == "CI" and hook.github_status is None and not hook.active
    rotated = secret_on(client.post(f"/admin/status-hooks/{hook.id}/secret").text)
    db.session.refresh(hook)
    assert hook.secret == rotated
    response = client.post("/admin/status-hooks", data={"name": "", "github_status": "nope"})
    assert response.status_code == 422
    client.post(f"/admin/status-hooks/{hook.id}/delete")
    assert db.session.scalar(db.select(db.func.count(StatusHook.id))) == 0


def test_redelivering_a_row_on_its_way_is_refused(app, client, auth, personas, make_idea,
                                                  receiver):
    from forum.webhooks import services

    services.create_endpoint(personas["ada"], name="CI", url=receiver.url,
                             events=["idea.created"])
    make_idea(author=personas["anna"])
    row = db.session.scalar(db.select(WebhookDelivery))
    auth.login("ada@example.com")
    response = client.post(f"/admin/webhooks/deliveries/{row.id}/redeliver",
                           follow_redirects=True)
    assert "already on its way" in response.text
    db.session.refresh(row)
    assert row.state == DeliveryState.PENDING and row.attempts == 0
    assert client.post("/admin/webhooks/deliveries/999999/redeliver").status_code == 404


def _admin_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("webhooks.") and rule.endpoint != "webhooks.receive_status"]


@pytest.mark.parametrize("who", ["anonymous", "fred", "pam"])
def test_every_webhook_admin_route_is_for_admins_only(app, client, auth, personas, receiver,
                                                     who):
    from forum.webhooks import services

    endpoint = services.create_endpoint(personas["ada"], name="CI", url=receiver.url,
                                        events=["idea.created"])
    hook = services.create_status_hook(personas["ada"], name="CI")
    db.session.commit()
    row = services.send_test(endpoint, personas["ada"])
    db.session.commit()
    values = {"endpoint_id": endpoint.id, "hook_id": hook.id, "row_id": row.id}
    if who != "anonymous":
        client.post("/signin", data={"email": f"{who}@example.com", "password": PASSWORD})
    rules = _admin_rules(app)
    assert len(rules) == 11
    before = fingerprint()
    for rule in rules:
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, data={
                "name": "Fred", "url": "http://fred.example/", "events": ["idea.created"]})
            if who == "anonymous":
                assert response.status_code == 302, (method, path)
                assert response.location.startswith("/signin"), (method, path)
            else:
                assert response.status_code == 403, (method, path, response.status_code)
                assert "whsec_" not in response.text
    assert fingerprint() == before
    if who == "pam":
        assert 'href="/admin/webhooks"' not in client.get("/").text
