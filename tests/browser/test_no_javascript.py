"""With JavaScript off, every feature works through plain forms."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from forum.extensions import db
from forum.ideas.models import Idea, Subscription, SubscriptionLevel
from tests.browser.test_accessibility import PASSWORD, seed


def test_sign_in_post_vote_comment_and_follow_without_javascript(browser, live_app,
                                                                 live_server):
    ids = seed(live_app)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("anna@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in. Welcome back, Anna.")).to_be_visible()

    page.get_by_role("link", name="New idea").click()
    page.get_by_label("Title").fill("Dark mode for the dashboard")
    page.get_by_role("button", name="Post idea").click()
    expect(page.get_by_role("heading", name="Dark mode for the dashboard")).to_be_visible()

    # Vote from the list: the form posts and comes back to the same list.
    page.goto(live_server.url + "/?sort=new")
    row = page.locator(".idea-row", has_text="Export tasks to CSV")
    row.get_by_role("button", name=re.compile("Vote for")).click()
    expect(page.get_by_text("Your vote is counted.")).to_be_visible()
    assert page.url.endswith("/?sort=new")
    expect(page.locator(".idea-row", has_text="Export tasks to CSV")
           .locator("[data-vote-count]")).to_have_text("2")

    page.get_by_role("link", name="Export tasks to CSV").click()
    page.get_by_role("textbox", name="Comment").fill("We need this for *every* client.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Your comment is posted.")).to_be_visible()
    expect(page.locator(".comment em", has_text="every")).to_be_visible()

    page.get_by_label("Notify me").select_option("status")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You will hear only when the status changes.")).to_be_visible()
    expect(page.get_by_label("Notify me")).to_have_value("status")

    with live_app.app_context():
        idea = db.session.get(Idea, ids["csv"])
        assert idea.vote_count == 2
        assert idea.comment_count == 1
        level = db.session.scalar(db.select(Subscription.level).where(
            Subscription.idea_id == idea.id, Subscription.user_id == ids["anna"]))
        assert level == SubscriptionLevel.STATUS
    context.close()
