"""Journeys a person makes, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea


def _seed_other_idea(app) -> int:
    with app.app_context():
        bob = accounts.register(email="bob@example.com", name="Bob", password="bob password 1")
        general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        idea = ideas.submit_idea(bob, title="Export tasks to CSV",
                                 body="For our monthly client report.", board=general)
        db.session.commit()
        return idea.id


def test_sign_up_post_an_idea_vote_for_another(live_app, live_server, page):
    other_id = _seed_other_idea(live_app)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Your name").fill("Marie Dubois")
    page.get_by_label("Email").fill("marie@example.com")
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Welcome, Marie Dubois")).to_be_visible()

    page.get_by_role("link", name="New idea").click()
    page.get_by_label("Title").fill("Dark mode for the dashboard")
    page.get_by_label("Details").fill("The app is **too bright** at night.")
    page.get_by_role("button", name="Post idea").click()
    expect(page.get_by_role("heading", name="Dark mode for the dashboard")).to_be_visible()
    expect(page.locator("strong", has_text="too bright")).to_be_visible()
    expect(page.locator(".idea-head [data-vote-count]")).to_have_text("1")

    # Vote for Bob's idea from the list, in place, without a reload.
    page.goto(live_server.url + "/?sort=new")
    row = page.locator(".idea-row", has_text="Export tasks to CSV")
    button = row.get_by_role("button", name=re.compile("Vote for"))
    expect(row.locator("[data-vote-count]")).to_have_text("1")
    url_before = page.url
    button.click()
    expect(row.locator("[data-vote-count]")).to_have_text("2")
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.url == url_before
    expect(page.locator("#live")).to_have_text("Your vote is counted.")

    # The server agrees, and the count survives a reload.
    page.reload()
    expect(page.locator(".idea-row", has_text="Export tasks to CSV")
           .locator("[data-vote-count]")).to_have_text("2")
    with live_app.app_context():
        assert db.session.get(Idea, other_id).vote_count == 2

    # And back: unvote in place.
    row = page.locator(".idea-row", has_text="Export tasks to CSV")
    row.get_by_role("button", name=re.compile("Vote for")).click()
    expect(row.locator("[data-vote-count]")).to_have_text("1")
