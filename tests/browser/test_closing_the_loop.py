"""A voter hears that their idea shipped, once, and answers the satisfaction question."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.accounts.models import Role
from forum.changelog.models import SatisfactionAnswer
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board
from tests.conftest import deliver, text_of


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "MAIL_URL": smtp_server.url}


def _seed(app) -> int:
    with app.app_context():
        accounts.register(email="vera@example.com", name="Vera", password="vera password 1")
        accounts.register(email="pam@example.com", name="Pam", password="pam password 1",
                          role=Role.STAFF)
        bob = accounts.register(email="bob@example.com", name="Bob", password=None)
        general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        idea = ideas.submit_idea(bob, title="Export tasks to CSV",
                                 body="For our monthly client report.", board=general)
        db.session.commit()
        return idea.id


def _sign_in(page, url, email, password):
    page.goto(url + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in.")).to_be_visible()


def test_voter_hears_it_shipped_once_and_answers(browser, live_app, live_server, page,
                                                 smtp_server):
    live_app.config["BASE_URL"] = live_server.url  # links in the email point at this server
    idea_id = _seed(live_app)

    # Vera votes.
    _sign_in(page, live_server.url, "vera@example.com", "vera password 1")
    page.goto(f"{live_server.url}/ideas/{idea_id}")
    page.locator(".idea-head").get_by_role("button", name=re.compile("Vote for")).click()
    expect(page.locator(".idea-head [data-vote-count]")).to_have_text("2")

    # Pam ships it from the status screen, after seeing who will be told.
    staff = browser.new_context()
    staff_page = staff.new_page()
    _sign_in(staff_page, live_server.url, "pam@example.com", "pam password 1")
    staff_page.goto(f"{live_server.url}/ideas/{idea_id}")
    staff_page.get_by_role("link", name="Change status").click()
    staff_page.get_by_label("New status").select_option("shipped")
    staff_page.get_by_role("button", name="Preview").click()
    expect(staff_page.locator("[data-preview-figures]")).to_have_text(
        "2 voters, 0 followers, 0 opted out")
    staff_page.get_by_label("Release notes").fill("CSV export is in the **Reports** menu.")
    staff_page.get_by_role("button", name="Confirm and notify").click()
    expect(staff_page.get_by_text("The idea is now Shipped; 2 people will be told.")
           ).to_be_visible()
    staff.close()

    # The deliverer sends the outbox to the SMTP server; delivering again sends nothing more.
    with live_app.app_context():
        assert deliver(live_app).sent == 2
        assert deliver(live_app).sent == 0
    mails = smtp_server.to("vera@example.com")
    assert len(mails) == 1
    assert mails[0]["Subject"] == "Shipped: “Export tasks to CSV”"
    link = re.search(r"http://\S+/satisfaction/\S+/yes", text_of(mails[0])).group(0)
    assert link.startswith(live_server.url)

    # She answers from the email, in a browser where she is not signed in.
    anonymous = browser.new_context()
    reader = anonymous.new_page()
    reader.goto(link)
    expect(reader.get_by_text("Thank you: your answer “Yes” is recorded.")).to_be_visible()
    reader.goto(f"{live_server.url}/ideas/{idea_id}")
    expect(reader.locator("[data-satisfaction]")).to_contain_text("Yes: 1")
    anonymous.close()
    with live_app.app_context():
        answers = db.session.scalars(db.select(SatisfactionAnswer)).all()
        assert [a.answer.value for a in answers] == ["yes"]
