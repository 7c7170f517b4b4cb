"""One journey per persona on the demo data, each ending in what the person came for.

The other personas' journeys: finding an existing idea while typing a new one
(test_similar.py), the product manager's triage (test_triage_journey.py), the engineer who
ships and the voter who answers (test_closing_the_loop.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.demo import DEMO_PASSWORD
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Idea
from tests.browser.pages import load_demo
from tests.conftest import deliver, text_of


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "MAIL_URL": smtp_server.url}


def _someone_comments(app, title: str, text: str) -> None:
    with app.app_context():
        eli = accounts.find_by_email("eng@example.com")
        idea = db.session.scalar(db.select(Idea).where(Idea.title == title))
        ideas.post_comment(idea, eli, text)
        db.session.commit()


def test_a_customer_posts_comments_follows_and_tunes_notifications(live_app, live_server,
                                                                    page, smtp_server):
    """Chris wants dark mode on Android, and wants the offline mode others asked for; then he
    has heard enough about it, and stops its email from the link in one."""
    live_app.config["BASE_URL"] = live_server.url  # links in the email point at this server
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

    # His settings: one email per update, and he sees what he follows and how closely.
    page.get_by_role("contentinfo").get_by_role("link", name="Notification settings").click()
    page.get_by_label("Immediately: one email per update").check()
    expect(page.get_by_label("Notifications for “Work offline in the Android app”")
           ).to_have_value("all")
    expect(page.get_by_label("Notifications for “Dark mode in the Android app”")
           ).to_have_value("status")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()

    # An engineer answers on the offline idea: Chris gets it by email, with a way out.
    title = "Work offline in the Android app"
    _someone_comments(live_app, title, "We are prototyping a sync engine for this.")
    with live_app.app_context():
        deliver(live_app)
    mails = [m for m in smtp_server.to("customer@example.com") if title in m["Subject"]]
    assert len(mails) == 1
    assert "sync engine" in text_of(mails[0])
    link = re.search(r"http://\S+/unsubscribe/\S+", text_of(mails[0])).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)  # from the mail client: the link works signed in or not
    expect(page.get_by_text(f"Stop emails about “{title}”?")).to_be_visible()
    page.get_by_role("button", name="Unsubscribe", exact=True).click()
    expect(page.get_by_text(f"Done: you will get no more email about “{title}”.")
           ).to_be_visible()

    # What he came for: silence about that idea, and nothing else lost.
    _someone_comments(live_app, title, "The prototype syncs tasks, not yet attachments.")
    with live_app.app_context():
        deliver(live_app)
    mails = [m for m in smtp_server.to("customer@example.com") if title in m["Subject"]]
    assert len(mails) == 1, "no more mail about the idea he unsubscribed from"
    page.goto(live_server.url + "/settings/notifications")
    expect(page.get_by_label(f"Notifications for “{title}”")).to_have_value("none")
    expect(page.get_by_label("Immediately: one email per update")).to_be_checked()


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


def test_a_visitor_reads_the_roadmap_and_the_changelog(browser, demo_site):
    """A visitor's team needs two-factor authentication, and wants to know what shipped."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo_site.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Roadmap").click()
    expect(page.get_by_role("heading", name="Roadmap", level=1)).to_be_visible()
    planned = page.get_by_role("region", name=re.compile(r"^Planned \d+$"))
    expect(planned.get_by_role("link", name="Two-factor authentication")).to_be_visible()
    building = page.get_by_role("region", name=re.compile(r"^In progress \d+$"))
    expect(building.get_by_role("link", name="Recurring tasks")).to_be_visible()
    # Each column is ordered by votes, most first.
    votes = [int(re.match(r"\d+", v).group()) for v in
             planned.locator(".votes").all_inner_texts()]
    assert len(votes) > 1 and votes == sorted(votes, reverse=True)

    page.get_by_role("link", name="See the changelog").click()
    expect(page.get_by_role("heading", name="Changelog", level=1)).to_be_visible()
    entry = page.locator("article.entry", has=page.get_by_role("link", name="Dark mode",
                                                               exact=True))
    expect(entry).to_contain_text("follows your system's dark setting")
    expect(entry.locator("em", has_text="Settings → Appearance")).to_be_visible()
    expect(entry.locator("time")).to_have_attribute("title", re.compile(r"\d{4}"))
    expect(page.get_by_role("link", name="Atom feed")).to_have_attribute(
        "href", "/changelog.atom")

    # What the visitor came for: 2FA is planned, and dark mode is out (how to turn it on is
    # above), with the votes and discussion that asked for it one click away.
    entry.get_by_role("link", name="Dark mode", exact=True).click()
    expect(page.get_by_role("heading", name="Dark mode", level=1)).to_be_visible()
    expect(page.locator(".idea-head [data-status]")).to_have_text("Shipped")
    context.close()
