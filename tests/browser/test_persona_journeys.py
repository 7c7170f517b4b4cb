"""One journey per persona on the demo data, each ending in what the person came for.

Journeys that need screens not built yet (triage, merge, shipping email, roadmap, changelog,
"find an existing idea while typing") join this file when those screens land.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from forum.demo import DEMO_PASSWORD
from tests.browser.pages import load_demo


def test_a_customer_posts_comments_follows_and_tunes_notifications(live_app, live_server,
                                                                    page):
    """Chris wants dark mode on Android, and wants the offline mode others asked for."""
    load_demo(live_app)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("customer@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Boards").get_by_role("link", name="Mobile app").click()
    page.get_by_role("link", name="Post an idea").click()
    expect(page.get_by_label("Board")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("Board").locator("option:checked")).to_have_text("Mobile app")
    page.get_by_label("Title").fill("Dark mode in the Android app")
    page.get_by_label("Details").fill("The web app has it; the phone app blinds me at night.")
    page.get_by_role("button", name="Post idea").click()
    expect(page.get_by_text("Your idea is posted, and your vote is counted.")).to_be_visible()
    expect(page.locator(".idea-head [data-vote-count]")).to_have_text("1")

    # Chris only wants to hear when the status of his idea changes, not every comment.
    expect(page.get_by_label("Notify me")).to_have_value("all")
    page.get_by_label("Notify me").select_option("status")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You will hear only when the status changes.")).to_be_visible()

    page.get_by_role("link", name="Mobile app").first.click()
    page.get_by_role("link", name="Work offline in the Android app").click()
    votes = page.locator(".idea-head [data-vote-count]")
    before = int(votes.inner_text())
    page.locator(".idea-head").get_by_role("button", name=re.compile("Vote for")).click()
    expect(votes).to_have_text(str(before + 1))
    page.get_by_role("textbox", name="Comment").fill("Same for us: the metro has no signal.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".comment", has_text="the metro has no signal")).to_be_visible()
    page.get_by_label("Notify me").select_option("all")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You will hear about every comment and status change.")) \
        .to_be_visible()

    # What he came for: his idea is on record with his vote, and his vote counts on the other.
    page.get_by_role("banner").get_by_role("link", name="Chris Customer").click()
    posted = page.locator("section", has=page.get_by_role("heading", name="Ideas posted"))
    expect(posted.get_by_role("link", name="Dark mode in the Android app")).to_be_visible()
    voted = page.locator("section", has=page.get_by_role("heading", name="Ideas voted for"))
    expect(voted.get_by_role("link", name="Work offline in the Android app")).to_be_visible()


def test_a_visitor_browses_boards_and_sorts_to_see_what_is_coming(browser, demo_site):
    """A visitor wonders whether offline mode is coming to the mobile app."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo_site.url + "/")
    page.get_by_role("navigation", name="Boards").get_by_role("link", name="Mobile app").click()
    expect(page.get_by_role("heading", name="Mobile app", level=1)).to_be_visible()
    sorts = page.get_by_role("navigation", name="Sort ideas")

    sorts.get_by_role("link", name="New", exact=True).click()
    expect(sorts.get_by_role("link", name="New", exact=True)).to_have_attribute(
        "aria-current", "true")
    posted = page.locator(".idea-row .meta time").evaluate_all(
        "times => times.map(t => t.getAttribute('datetime'))")
    assert len(posted) > 3 and posted == sorted(posted, reverse=True)

    sorts.get_by_role("link", name="Top", exact=True).click()
    counts = [int(c) for c in page.locator(".idea-row [data-vote-count]").all_inner_texts()]
    assert len(counts) > 3 and counts == sorted(counts, reverse=True)

    # Voting needs an account: the visitor is asked to sign in, and would come back here.
    page.locator(".idea-row").first.get_by_role("button", name=re.compile("Vote for")).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/signin?next=/boards/mobile" in page.url
    page.go_back()

    page.get_by_role("link", name="Offline mode on mobile").click()
    # What the visitor came for: it is planned, and since when.
    expect(page.locator(".idea-head .badge")).to_have_text("Planned")
    history = page.get_by_role("region", name="Status history")
    expect(history.locator(".badge", has_text="Planned")).to_be_visible()
    expect(history.locator("time")).to_have_attribute("title", re.compile(r"\d{4}"))
    context.close()
