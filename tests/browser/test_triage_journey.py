"""A product manager triages in a real browser: filter the inbox, pick an idea with the
keyboard, ship it. (Merging a duplicate joins this journey when the merge service lands.)"""

from __future__ import annotations

from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.accounts.models import Role
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea
from tests.browser.conftest import ARTIFACTS


def _seed(app) -> dict[str, int]:
    with app.app_context():
        accounts.register(email="pm@example.com", name="Priya Product",
                          password="pm password 1", role=Role.STAFF)
        customer = accounts.register(email="bob@example.com", name="Bob", password=None)
        general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        mobile = Board(slug="mobile", name="Mobile app", position=1)
        db.session.add(mobile)
        db.session.flush()
        ids = {}
        for title, board in [("Offline mode on the phone", mobile),
                             ("Widgets for the home screen", mobile),
                             ("Export tasks to CSV", general)]:
            ids[title] = ideas.submit_idea(customer, title=title, body="", board=board).id
        db.session.commit()
        return ids


def test_a_product_manager_filters_the_inbox_and_ships_an_idea(live_app, live_server, page):
    ids = _seed(live_app)
    page.goto(live_server.url + "/signin")
    page.get_by_label("Email").fill("pm@example.com")
    page.get_by_label("Password").fill("pm password 1")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible()
    expect(page.locator(".triage-row")).to_have_count(3)

    page.get_by_label("Board").first.select_option("mobile")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".triage-row")).to_have_count(2)
    expect(page.locator(".triage-row", has_text="Export tasks to CSV")).to_have_count(0)

    # Keyboard: j moves to the first idea (newest first), x selects it.
    page.locator("body").press("j")
    page.keyboard.press("x")
    first = page.locator(".triage-row").first
    expect(first).to_contain_text("Widgets for the home screen")
    expect(first.locator("input[type=checkbox]")).to_be_checked()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "triage-inbox-filtered.png"), full_page=True)

    page.get_by_label("Action").select_option("status")
    page.locator("#bulk-value").select_option("shipped")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_text("1 idea updated.")).to_be_visible()
    # Shipping is acting: the idea leaves the inbox, the other mobile idea stays.
    expect(page.locator(".triage-row")).to_have_count(1)
    expect(page.locator(".triage-row")).to_contain_text("Offline mode on the phone")

    page.goto(f"{live_server.url}/ideas/{ids['Widgets for the home screen']}")
    expect(page.locator(".idea-head [data-status]")).to_have_text("Shipped")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    with live_app.app_context():
        assert db.session.get(Idea, ids["Widgets for the home screen"]).status.slug == "shipped"
