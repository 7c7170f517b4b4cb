"""Outgoing webhooks against a real HTTP receiver on loopback (http.server in a thread)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from forum.db import utcnow
from forum.extensions import db
from forum.ideas import merging, services
from forum.ideas.models import Board, Visibility
from forum.webhooks import delivery, signing
from forum.webhooks import services as webhooks
from forum.webhooks.events import EVENTS, deliveries
from forum.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from tests.webhook_receiver import Receiver

ALL = list(EVENTS)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(app, personas, receiver):
    def make(events=ALL, *, include_private=False, url=None) -> WebhookEndpoint:
        made = webhooks.create_endpoint(personas["ada"], name="CI", url=url or receiver.url,
                                        events=events, include_private=include_private)
        db.session.commit()
        return made
    return make


def deliver(clock=utcnow):
    return delivery.deliver_due(clock=clock)


def assert_signed(received, secret: str) -> None:
    header = received.headers[signing.SIGNATURE_HEADER]
    signing.verify(secret, header, received.body, now=int(time.time()), tolerance=60)
    assert received.headers[signing.DELIVERY_HEADER] == received.json["delivery"]
    assert received.headers[signing.EVENT_HEADER] == received.json["event"]
    assert received.headers["Content-Type"].startswith("application/json")


def test_every_event_arrives_once_signed_in_the_api_shapes(app, personas, make_idea, endpoint,
                                                          receiver, no_drift):
    hook = endpoint()
    anna, bob, pam = personas["anna"], personas["bob"], personas["pam"]
    idea = make_idea("Export to CSV", author=anna)
    services.cast_vote(idea, bob)
    services.post_comment(idea, bob, "Yes please")
    services.post_comment(idea, pam, "Internal: big customer asks too", internal=True)
    services.change_status(idea, services.find_status("planned"), pam, note="Next quarter.")
    duplicate = make_idea("CSV export of ideas", author=bob)
    merging.merge_ideas(duplicate, idea, pam)
    db.session.commit()

    report = deliver()
    assert report.delivered == 6 and report.retrying == 0
    assert receiver.events() == ["idea.created", "vote.created", "comment.created",
                                 "idea.status_changed", "idea.created", "idea.merged"]
    for received in receiver.received:
        assert_signed(received, hook.secret)
        assert received.path == "/hooks/forum"
    ids = [r.json["delivery"] for r in receiver.received]
    assert len(set(ids)) == 6
    # Each body is what the OpenAPI document's "webhooks" promise for its event.
    documented = app.test_client().get("/api/v1/openapi.json").json
    assert set(documented["webhooks"]) == {*EVENTS, "ping"}
    models = deliveries()
    for received in receiver.received:
        models[received.event].model_validate(received.json)

    created, vote, comment, status, _, merged = (r.json for r in receiver.received)
    # The resources are the JSON API's own shapes.
    api_idea = app.test_client().get(f"/api/v1/ideas/{idea.id}").json
    assert set(created["data"]["idea"]) == set(api_idea)
    assert created["data"]["idea"]["url"] == api_idea["url"]
    assert created["data"]["idea"]["votes"] == 1 and created["occurred_at"]
    assert vote["data"]["voter"] == {"id": bob.id, "name": "Bob"}
    assert vote["data"]["idea"]["votes"] == 2 and vote["data"]["source"] == "web"
    assert comment["data"]["comment"]["body"] == "Yes please"
    assert comment["data"]["comment"]["internal"] is False
    assert status["data"]["idea"]["status"] == "planned"
    assert status["data"]["change"] == {**status["data"]["change"], "from": "open",
                                        "to": "planned", "note": "Next quarter."}
    assert merged["data"]["idea"]["id"] == idea.id
    assert merged["data"]["merged"]["merged_into"] == idea.id
    assert all("Internal" not in r.body.decode() for r in receiver.received)

    # Nothing twice.
    assert deliver(lambda: utcnow() + timedelta(days=2)).attempted == 0
    assert len(receiver.received) == 6
    rows = db.session.scalars(db.select(WebhookDelivery)).all()
    assert {r.state for r in rows} == {DeliveryState.DELIVERED}
    assert all(r.status_code == 204 and r.attempts == 1 for r in rows)


def test_only_the_subscribed_events_go_to_each_endpoint(app, personas, make_idea, endpoint,
                                                        receiver):
    endpoint(["idea.status_changed"])
    idea = make_idea(author=personas["anna"])
    services.cast_vote(idea, personas["bob"])
    services.change_status(idea, services.find_status("shipped"), personas["pam"])
    db.session.commit()
    deliver()
    assert receiver.events() == ["idea.status_changed"]


def test_receiver_down_the_rows_wait_and_then_arrive_exactly_once(app, personas, make_idea,
                                                                  endpoint, receiver):
    endpoint()
    receiver.stop()
    idea = make_idea(author=personas["anna"])
    services.cast_vote(idea, personas["bob"])
    services.post_comment(idea, personas["bob"], "Please")
    db.session.commit()

    down = deliver()
    assert down.delivered == 0 and down.retrying == 3
    waiting = db.session.scalars(db.select(WebhookDelivery)).all()
    assert all(r.state == DeliveryState.PENDING and r.attempts == 1 for r in waiting)
    assert all("cannot reach" in r.last_error for r in waiting)
    later = utcnow() + timedelta(minutes=5)
    assert deliver(lambda: later).retrying == 3  # still down: backing off further
    db.session.expire_all()
    assert all(r.next_attempt_at > later for r in db.session.scalars(db.select(WebhookDelivery)))

    receiver.start()
    assert deliver(lambda: later).attempted == 0  # not before the back-off
    much_later = later + timedelta(hours=1)
    assert deliver(lambda: much_later).delivered == 3
    assert deliver(lambda: much_later + timedelta(days=3)).attempted == 0
    assert receiver.events() == ["idea.created", "vote.created", "comment.created"]
    assert len({r.json["delivery"] for r in receiver.received}) == 3


def test_a_500_is_retried_with_the_same_delivery_id_then_failed_and_redeliverable(
        app, client, auth, personas, make_idea, endpoint, receiver):
    hook = endpoint(["idea.created"])
    receiver.answer = 500
    make_idea(author=personas["anna"])
    clock = utcnow()
    for _ in range(app.config["WEBHOOK_MAX_ATTEMPTS"]):
        deliver(lambda at=clock: at)
        clock += timedelta(hours=7)  # past the longest back-off
    row = db.session.scalar(db.select(WebhookDelivery))
    db.session.refresh(row)
    assert row.state == DeliveryState.FAILED and row.status_code == 500
    assert row.attempts == app.config["WEBHOOK_MAX_ATTEMPTS"]
    assert row.last_error.startswith("gave up after 10 attempts: HTTP 500")
    assert deliver(lambda: clock + timedelta(days=9)).attempted == 0  # failed stays failed
    assert len({r.json["delivery"] for r in receiver.received}) == 1  # one id, every attempt
    assert len(receiver.received) == app.config["WEBHOOK_MAX_ATTEMPTS"]

    # The failure stays in the endpoint's log; the admin delivers it again once fixed.
    auth.login("ada@example.com")
    page = client.get(f"/admin/webhooks/{hook.id}")
    assert "HTTP 500" in page.text and "Deliver again" in page.text
    receiver.answer = 200
    client.post(f"/admin/webhooks/deliveries/{row.id}/redeliver")
    assert deliver().delivered == 1
    assert receiver.received[-1].json["delivery"] == row.delivery_id
    db.session.refresh(row)
    assert row.state == DeliveryState.DELIVERED and row.status_code == 200


def test_a_redirect_is_not_followed(app, personas, make_idea, endpoint, receiver):
    endpoint(["idea.created"])
    receiver.answer = 302
    make_idea(author=personas["anna"])
    report = deliver()
    assert report.retrying == 1 and len(receiver.received) == 1
    row = db.session.scalar(db.select(WebhookDelivery))
    assert row.status_code == 302 and row.last_error.startswith("HTTP 302")


def test_two_deliverers_racing_never_post_a_row_twice(app, personas, make_user, make_idea,
                                                      endpoint, receiver):
    endpoint(["vote.created"])
    idea = make_idea(author=personas["anna"])
    for n in range(16):
        services.cast_vote(idea, make_user(f"Voter {n}"))
    db.session.commit()
    receiver.delay = 0.02  # long enough for the two to interleave
    reports, failures = [], []

    def deliverer():
        try:
            with app.app_context():
                reports.append(delivery.deliver_due())
                db.session.remove()
        except Exception as error:  # surfaced below: a thread's exception is otherwise lost
            failures.append(error)

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sum(r.delivered for r in reports) == 16
    assert all(r.delivered for r in reports), "both deliverers took part"
    ids = [r.json["delivery"] for r in receiver.received]
    assert len(ids) == 16 and len(set(ids)) == 16


def test_a_vanished_deliverer_s_row_goes_out_once_its_lease_ends(app, personas, make_idea,
                                                                  endpoint, receiver):
    endpoint(["idea.created"])
    make_idea(author=personas["anna"])
    claim = delivery.claim_next(utcnow())  # ...and the deliverer dies
    assert claim is not None and claim.attempt == 1
    assert deliver().attempted == 0  # leased: nobody else touches it
    after = utcnow() + timedelta(seconds=app.config["WEBHOOK_LEASE_SECONDS"] + 1)
    report = deliver(lambda: after)
    assert report.recovered == 1 and report.delivered == 1
    assert receiver.received[0].json["delivery"] == claim.delivery_id
    row = db.session.scalar(db.select(WebhookDelivery))
    db.session.refresh(row)
    assert row.state == DeliveryState.DELIVERED and row.attempts == 2


def test_private_boards_and_hidden_ideas_only_reach_endpoints_that_include_them(
        app, personas, make_idea, endpoint, receiver):
    public_only = endpoint()
    private = endpoint(include_private=True, url=receiver.url.replace("/forum", "/private"))
    team = Board(slug="team", name="Team", visibility=Visibility.STAFF)
    lounge = Board(slug="lounge", name="Lounge", visibility=Visibility.MEMBERS)
    db.session.add_all([team, lounge])
    db.session.commit()
    pam = personas["pam"]
    secret = make_idea("Roadmap secret", author=pam, board=team)
    services.change_status(secret, services.find_status("planned"), pam)
    services.post_comment(secret, pam, "Secret plan")
    make_idea("Members talk", author=personas["anna"], board=lounge)
    hidden = make_idea("Spam", author=personas["fred"])
    hidden.hidden_at = utcnow()
    db.session.commit()
    services.cast_vote(hidden, personas["bob"])
    services.post_comment(hidden, personas["bob"], "Me too")
    services.post_comment(make_idea(author=personas["bob"]), pam, "Team note", internal=True)
    db.session.commit()

    deliver()
    by_path = {}
    for received in receiver.received:
        by_path.setdefault(received.path, []).append(received)
    # Only what anyone could see when it happened: "Spam" was posted in public, then hidden.
    assert [(r.event, r.json["data"]["idea"]["title"]) for r in by_path["/hooks/forum"]] == [
        ("idea.created", "Spam"), ("idea.created", "Dark mode for the dashboard")]
    private_titles = [(r.event, r.json["data"]["idea"]["title"]) for r in by_path["/hooks/private"]]
    assert ("idea.status_changed", "Roadmap secret") in private_titles
    assert ("comment.created", "Roadmap secret") in private_titles
    assert ("idea.created", "Members talk") in private_titles
    assert ("vote.created", "Spam") in private_titles
    assert all("Team note" not in r.body.decode() for r in receiver.received)
    assert public_only.id != private.id


def test_a_switched_off_endpoint_records_nothing_and_its_waiting_rows_wait(
        app, personas, make_idea, endpoint, receiver):
    hook = endpoint(["idea.created"])
    receiver.stop()
    make_idea(author=personas["anna"])
    deliver()
    webhooks.update_endpoint(hook, personas["ada"], name=hook.name, url=hook.url,
                             events=hook.events, include_private=False, active=False)
    db.session.commit()
    make_idea("Another one", author=personas["anna"])
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 1
    receiver.start()
    assert deliver(lambda: utcnow() + timedelta(days=1)).attempted == 0
    hook.active = True
    db.session.commit()
    assert deliver(lambda: utcnow() + timedelta(days=1)).delivered == 1


def test_the_cli_deliverer_sends_mail_and_webhooks(app, runner, personas, make_idea, endpoint,
                                                   receiver):
    endpoint(["idea.status_changed"])
    idea = make_idea(author=personas["anna"])
    # A CLI command has no request: the event's links still come from FORUM_BASE_URL.
    result = runner.invoke(args=["forum", "set-status", str(idea.id), "planned"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["forum", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "webhooks: 1 delivered" in result.output
    sent = receiver.received[0].json["data"]
    assert sent["idea"]["url"] == f"http://127.0.0.1:5000/ideas/{idea.id}"
    assert sent["change"]["by"] is None
    assert "Nothing to deliver." in runner.invoke(args=["forum", "deliver", "--once"]).output
