"""Similar ideas appear while a title is typed, and one click votes for one instead."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea
from forum.search import service


def test_typing_a_title_suggests_existing_ideas_and_vote_instead(live_app, live_server, page):
    with live_app.app_context():
        bob = accounts.register(email="bob@example.com", name="Bob", password="bob password 1")
        accounts.register(email="marie@example.com", name="Marie", password="marie password 1")
        general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        other = ideas.submit_idea(bob, title="Export tasks to CSV",
                                  body="For our monthly client report.", board=general)
        ideas.submit_idea(bob, title="Reactions with emoji", body="", board=general)
        db.session.commit()
        other_id = other.id

    page.goto(live_server.url + "/signin")
    page.get_by_label("Email").fill("marie@example.com")
    page.get_by_label("Password").fill("marie password 1")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + "/ideas/new")
    # Without typing, the no-JS button is replaced by live suggestions.
    expect(page.get_by_role("button", name="Check for similar ideas")).to_be_hidden()
    page.get_by_label("Title").press_sequentially("csv exprot of my tasks", delay=20)
    results = page.locator("[data-similar-results]")
    expect(results).to_have_attribute("aria-live", "polite")
    expect(results.get_by_role("link", name="Export tasks to CSV")).to_be_visible()
    # Screen readers hear how many were found: the count is written into the live region.
    expect(results.locator("p.visually-hidden")).to_have_text("Similar ideas found: 1")
    expect(results).not_to_contain_text("Reactions with emoji")
    expect(results).to_contain_text("1 vote")
    expect(results).not_to_contain_text("1 votes")

    results.get_by_role("button", name="Vote for this instead").click()
    expect(page).to_have_url(re.compile(rf"/ideas/{other_id}$"))
    expect(page.locator(".idea-head [data-vote-count]")).to_have_text("2")
    with live_app.app_context():
        assert db.session.get(Idea, other_id).vote_count == 2
        assert db.session.scalar(db.select(db.func.count(Idea.id))) == 2  # nothing new posted
    service.close(live_app)
