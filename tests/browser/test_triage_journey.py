"""A product manager triages in a real browser: filter the inbox, merge a duplicate found by
search, rate impact and effort, and ship the idea that is worth most."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.accounts.models import Role
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea
from forum.search import service
from tests.browser.conftest import ARTIFACTS

OFFLINE = "Offline mode on the phone"
DUPLICATE = "Work without a connection in the mobile app"
WIDGETS = "Widgets for the home screen"


def _seed(app) -> dict[str, int]:
    with app.app_context():
        accounts.register(email="pm@example.com", name="Priya Product",
                          password="pm password 1", role=Role.STAFF)
        bob = accounts.register(email="bob@example.com", name="Bob", password=None)
        ann = accounts.register(email="ann@example.com", name="Ann", password=None)
        general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        mobile = Board(slug="mobile", name="Mobile app", position=1)
        db.session.add(mobile)
        db.session.flush()
        ids = {}
        for title, body, board, author in [
                (OFFLINE, "I work on trains: let me edit tasks offline.", mobile, bob),
                (WIDGETS, "Today's tasks on the home screen.", mobile, bob),
                ("Export tasks to CSV", "For our monthly report.", general, bob),
                (DUPLICATE, "Offline editing on the metro, synced later.", mobile, ann)]:
            ids[title] = ideas.submit_idea(author, title=title, body=body, board=board).id
        db.session.commit()
        return ids


def test_a_product_manager_filters_merges_rates_and_ships(live_app, live_server, page):
    ids = _seed(live_app)
    page.goto(live_server.url + "/signin")
    page.get_by_label("Email").fill("pm@example.com")
    page.get_by_label("Password").fill("pm password 1")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Team tools").get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible()
    expect(page.locator(".triage-row")).to_have_count(4)
    page.get_by_label("Board").first.select_option("mobile")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".triage-row")).to_have_count(3)
    expect(page.locator(".triage-row", has_text="Export tasks to CSV")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "triage-inbox-filtered.png"), full_page=True)

    # Ann's idea is Bob's in other words: find Bob's by searching, compare, merge.
    page.get_by_role("link", name=DUPLICATE).click()
    page.get_by_role("link", name="Merge into another idea").click()
    page.get_by_label("Find the idea it duplicates").fill("offline")
    page.get_by_role("button", name="Search").click()
    candidates = page.locator(".candidates")
    expect(candidates.get_by_role("link", name=OFFLINE)).to_be_visible()
    expect(candidates.get_by_role("link", name=WIDGETS)).to_have_count(0)
    candidates.get_by_role("link", name=OFFLINE).click()
    expect(page.get_by_role("heading", name="Are these the same idea?")).to_be_visible()
    page.get_by_role("button", name=re.compile("Merge into")).click()
    expect(page.get_by_text("Merged. Its votes now count here.")).to_be_visible()
    expect(page.get_by_role("heading", name=OFFLINE, level=1)).to_be_visible()
    expect(page.locator(".idea-head [data-vote-count]")).to_have_text("2")

    # Rate both mobile ideas; the score is voters × impact ÷ effort.
    page.get_by_label("Impact").select_option("5")
    page.get_by_label("Effort").select_option("2")
    page.get_by_role("button", name="Save priority").click()
    expect(page.locator("[data-score]")).to_have_text("5.0")
    page.goto(f"{live_server.url}/ideas/{ids[WIDGETS]}")
    page.get_by_label("Impact").select_option("2")
    page.get_by_label("Effort").select_option("4")
    page.get_by_role("button", name="Save priority").click()
    expect(page.locator("[data-score]")).to_have_text("0.5")

    # Rated ideas have left the inbox; the full list, best value first, has them.
    page.get_by_role("link", name="Inbox").click()
    expect(page.locator(".triage-row")).to_have_count(1)  # Export tasks to CSV
    page.goto(live_server.url + "/staff/ideas?board=mobile")
    page.get_by_label("Sort").select_option("value")
    page.get_by_role("button", name="Apply filters").click()
    titles = page.locator(".triage-row h2").all_inner_texts()
    assert titles[:2] == [OFFLINE, WIDGETS], titles

    # Ship the best one from the list.
    page.get_by_label(f"Select “{OFFLINE}”").check()
    page.get_by_label("Action").select_option("status")
    page.locator("#bulk-value").select_option("shipped")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_text("1 idea updated.")).to_be_visible()

    # What she came for: one idea instead of two, rated, shipped, and on record.
    page.get_by_role("link", name=OFFLINE).click()
    expect(page.locator(".idea-head [data-status]")).to_have_text("Shipped")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    with live_app.app_context():
        offline = db.session.get(Idea, ids[OFFLINE])
        assert offline.status.slug == "shipped"
        assert (offline.impact, offline.effort, offline.vote_count) == (5, 2, 2)
        assert db.session.get(Idea, ids[DUPLICATE]).merged_into_id == offline.id
    service.close(live_app)
