"""A product manager clears the duplicates queue in a real browser."""

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


def test_merge_from_the_queue_then_unmerge(live_app, live_server, page):
    with live_app.app_context():
        accounts.register(email="pam@example.com", name="Pam", password="pam password 1",
                          role=Role.STAFF)
        ann = accounts.register(email="ann@example.com", name="Ann", password=None)
        bob = accounts.register(email="bob@example.com", name="Bob", password=None)
        general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        old = ideas.submit_idea(ann, title="Invite teammates by email",
                                body="Send invitations to colleagues.", board=general)
        new = ideas.submit_idea(bob, title="Invite team mates via e-mail",
                                body="Invitations for my colleagues.", board=general)
        db.session.commit()
        old_id, new_id = old.id, new.id

    page.goto(live_server.url + "/signin")
    page.get_by_label("Email").fill("pam@example.com")
    page.get_by_label("Password").fill("pam password 1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Duplicates").click()
    pair = page.locator(".duplicate-pair", has_text="Invite team mates via e-mail")
    expect(pair).to_contain_text("Invite teammates by email")
    page.screenshot(path=str(ARTIFACTS / "duplicates-queue.png"), full_page=True)
    pair.get_by_role("link", name="Side by side").click()
    expect(page.get_by_role("heading", name="Are these the same idea?")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "duplicates-side-by-side.png"), full_page=True)
    page.get_by_role("button", name=re.compile("Merge into")).click()
    expect(page.get_by_text("Merged. Its votes now count here.")).to_be_visible()
    expect(page.locator(".duplicate-pair", has_text="Invite team mates")).to_have_count(0)
    with live_app.app_context():
        assert db.session.get(Idea, new_id).merged_into_id == old_id
        assert db.session.get(Idea, old_id).vote_count == 2

    page.goto(f"{live_server.url}/ideas/{new_id}")
    expect(page.get_by_role("note")).to_contain_text("This idea was merged into")
    page.get_by_role("button", name="Unmerge").click()
    expect(page.get_by_text("Unmerged.")).to_be_visible()
    with live_app.app_context():
        assert db.session.get(Idea, new_id).merged_into_id is None
        assert db.session.get(Idea, old_id).vote_count == 1
    service.close(live_app)
