"""Staff add a customer's vote and tick "tell them": the customer hears by email, in their
language, with the idea's link and who added it, and can claim an account made for them."""

from __future__ import annotations

import re

import pytest

from forum.accounts.models import User
from forum.extensions import db
from forum.notifications.models import OutboxMessage
from tests.conftest import deliver, html_of, text_of


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "MAIL_URL": smtp_server.url}


def test_a_new_customer_is_told_and_claims_the_account(app, client, auth, personas, make_idea,
                                                       smtp_server, no_drift):
    idea = make_idea("SSO with Okta")
    auth.login("pam@example.com")
    response = client.post(f"/staff/ideas/{idea.id}/votes", data={
        "email": "cto@bigcorp.example", "name": "Carla", "source": "sales", "tell": "1"})
    assert response.status_code == 302
    assert "We will email them." in client.get(f"/ideas/{idea.id}").text
    auth.logout()
    assert deliver(app).sent == 1
    [mail] = smtp_server.to("cto@bigcorp.example")
    assert "SSO with Okta" in mail["Subject"]
    text = text_of(mail)
    assert "Pam from the Feedback team added your vote" in text
    assert f"/ideas/{idea.id}" in text and f"/ideas/{idea.id}" in html_of(mail)
    claim = re.search(r"https?://\S+(/password/reset/\S+)", text).group(1)
    assert "/password/forgot" in text  # for when the link has expired
    # The claim: choose a password through the reset page; the address is then confirmed.
    assert client.get(claim).status_code == 200
    assert client.post(claim, data={"password": "a long new password"}).status_code == 302
    carla = db.session.scalar(db.select(User).where(User.email == "cto@bigcorp.example"))
    assert carla.check_password("a long new password") and carla.email_confirmed_at
    assert client.get("/me", follow_redirects=True).text.count("SSO with Okta") >= 1


def test_an_existing_customer_reads_it_in_their_language_without_a_claim_link(
        app, client, auth, personas, make_idea, smtp_server):
    bob = personas["bob"]
    bob.locale = "fr"
    db.session.commit()
    idea = make_idea("Export PDF")
    auth.login("pam@example.com")
    client.post(f"/staff/ideas/{idea.id}/votes", data={"email": bob.email, "tell": "1"})
    deliver(app)
    [mail] = smtp_server.to(bob.email)
    assert "Votre vote" in mail["Subject"] and "Export PDF" in mail["Subject"]
    assert "/password/reset/" not in text_of(mail)


def test_nobody_is_told_unless_staff_ticked_it_or_when_the_vote_existed(
        app, client, auth, personas, make_idea, smtp_server):
    idea = make_idea()
    auth.login("pam@example.com")
    client.post(f"/staff/ideas/{idea.id}/votes", data={"email": "quiet@example.com"})
    client.post(f"/staff/ideas/{idea.id}/votes", data={"email": "quiet@example.com",
                                                       "tell": "1"})  # already counted
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
        OutboxMessage.template == "vote_added")) == 0


def test_the_api_tells_them_too(app, client, personas, make_idea, smtp_server):
    from forum.accounts.tokens import create_token

    token = create_token(personas["pam"], "ci").secret
    db.session.commit()
    idea = make_idea("Webhooks")
    response = client.post(f"/api/v1/ideas/{idea.id}/votes",
                           json={"email": "dev@partner.example", "tell": True},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    deliver(app)
    assert "Webhooks" in smtp_server.to("dev@partner.example")[0]["Subject"]


def test_a_customer_is_not_told_of_an_idea_they_cannot_see(client, auth, personas, make_idea):
    from forum.ideas.models import Board, Visibility

    inner = Board(slug="inner", name="Inner", visibility=Visibility.STAFF)
    db.session.add(inner)
    db.session.commit()
    idea = make_idea("Acquisition plans", board=inner)
    auth.login("pam@example.com")
    client.post(f"/staff/ideas/{idea.id}/votes", data={"email": "bob@example.com", "tell": "1"})
    assert "cannot see this idea" in client.get(f"/ideas/{idea.id}").text
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
        OutboxMessage.template == "vote_added")) == 0
    assert db.session.get(type(idea), idea.id).vote_count == 1  # nothing changed
