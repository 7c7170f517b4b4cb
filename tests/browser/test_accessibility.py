"""By keyboard alone, with focus always visible, and with changes read out to screen readers."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.accounts.models import Role
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Idea
from tests.browser.conftest import sign_in_state

PASSWORD = "a long password"
MAX_TABS = 60

# Focus is visible when the element draws an outline or a box-shadow of its own when focused.
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return {tag: el.tagName, text: (el.textContent || el.name || "").trim().slice(0, 40),
          visible: outline || style.boxShadow !== "none"};
}"""


def seed(app) -> dict[str, int]:
    """Anna (customer) and Pam (staff); two ideas by Bob on the General board."""
    with app.app_context():
        anna = accounts.register(email="anna@example.com", name="Anna", password=PASSWORD)
        accounts.register(email="pam@example.com", name="Pam", password=PASSWORD, role=Role.STAFF)
        bob = accounts.register(email="bob@example.com", name="Bob", password=None)
        general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
        csv = ideas.submit_idea(bob, title="Export tasks to CSV", body="For our report.",
                                board=general)
        gantt = ideas.submit_idea(bob, title="Gantt chart view", body="A timeline.",
                                  board=general)
        db.session.commit()
        return {"anna": anna.id, "csv": csv.id, "gantt": gantt.id}


def tab_to(page, name: re.Pattern) -> list[dict]:
    """Press Tab until the focused element's accessible name matches; returns every stop."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUS_STYLE))
        focused = page.locator(":focus")
        label = focused.get_attribute("aria-label") or focused.inner_text()
        if name.search(label or ""):
            return stops
    raise AssertionError(f"{name.pattern!r} not reached in {MAX_TABS} tabs: {stops}")


def test_voting_from_the_board_by_keyboard_with_focus_always_visible(browser, live_app,
                                                                      live_server):
    ids = seed(live_app)
    state = sign_in_state(browser, live_server.url, "anna@example.com", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    page.goto(live_server.url + "/?sort=new")
    stops = tab_to(page, re.compile("Vote for “Export tasks to CSV”"))
    hidden = [stop for stop in stops if not stop["visible"]]
    assert hidden == [], f"focus is invisible on {hidden}"
    # The first stop is the skip link, shown on focus.
    assert stops[0]["text"] == "Skip to content"

    row = page.locator(".idea-row", has_text="Export tasks to CSV")
    page.keyboard.press("Enter")
    expect(row.locator("[data-vote-count]")).to_have_text("2")
    expect(page.locator("#live")).to_have_text("Your vote is counted.")
    expect(page.locator(":focus")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")  # and back, still without the mouse
    expect(row.locator("[data-vote-count]")).to_have_text("1")
    expect(page.locator("#live")).to_have_text("Your vote is withdrawn.")
    with live_app.app_context():
        assert db.session.get(Idea, ids["csv"]).vote_count == 1
    context.close()


def test_posting_an_idea_by_keyboard(browser, live_app, live_server):
    seed(live_app)
    state = sign_in_state(browser, live_server.url, "anna@example.com", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    page.goto(live_server.url + "/")
    tab_to(page, re.compile("^New idea$"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Title")).to_be_focused()  # the form starts where you type
    page.keyboard.type("Dark mode for the dashboard")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Details")).to_be_focused()
    page.keyboard.type("Too bright at night.")
    stops = tab_to(page, re.compile("^Post idea$"))
    assert all(stop["visible"] for stop in stops), stops
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dark mode for the dashboard")).to_be_visible()
    # The confirmation is read out, not only shown.
    expect(page.locator("#live")).to_have_text("Your idea is posted, and your vote is counted.")
    context.close()


def test_a_refused_vote_rolls_back_and_says_why(browser, live_app, live_server):
    """Staff ship the idea while Anna reads it: her vote is refused, the count comes back."""
    ids = seed(live_app)
    state = sign_in_state(browser, live_server.url, "anna@example.com", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    page.goto(f"{live_server.url}/ideas/{ids['gantt']}")
    button = page.locator(".idea-head").get_by_role("button", name=re.compile("Vote for"))
    expect(button.locator("[data-vote-count]")).to_have_text("1")

    with live_app.app_context():
        pam = accounts.find_by_email("pam@example.com")
        ideas.change_status(db.session.get(Idea, ids["gantt"]), ideas.find_status("shipped"),
                            pam)
        db.session.commit()

    button.click()
    expect(page.locator("#live")).to_have_text("Voting is closed: this idea is shipped.")
    expect(button.locator("[data-vote-count]")).to_have_text("1")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).not_to_have_attribute("aria-busy", "true")
    context.close()


def test_a_vote_lost_on_the_network_rolls_back(browser, live_app, live_server):
    ids = seed(live_app)
    state = sign_in_state(browser, live_server.url, "anna@example.com", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    page.goto(f"{live_server.url}/ideas/{ids['csv']}")
    page.route("**/vote", lambda route: route.abort())
    button = page.locator(".idea-head").get_by_role("button", name=re.compile("Vote for"))
    button.click()
    expect(page.locator("#live")).to_have_text("Your vote could not be saved. Please try again.")
    expect(button.locator("[data-vote-count]")).to_have_text("1")
    expect(button).to_have_attribute("aria-pressed", "false")
    context.close()


def test_the_message_after_a_form_post_is_announced(browser, live_app, live_server):
    seed(live_app)
    page = browser.new_page()
    page.goto(live_server.url + "/signin")
    page.get_by_label("Email").fill("anna@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".flashes")).to_have_attribute("role", "status")
    expect(page.locator("#live")).to_have_text("Signed in. Welcome back, Anna.")
    page.close()


def test_a_form_being_posted_shows_it_and_ignores_a_second_press(browser, live_app,
                                                                  live_server):
    ids = seed(live_app)
    state = sign_in_state(browser, live_server.url, "anna@example.com", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    page.goto(f"{live_server.url}/ideas/{ids['csv']}")
    # Two presses in a row, as the browser reports them before the next page arrives. A
    # dispatched submit event runs the page's handlers without sending the form, so the page
    # stays to be asked (after a real press it is gone as soon as the next one arrives).
    outcome = page.evaluate("""() => {
      const form = document.querySelector("form.comment-form");
      const press = () => {
        const event = new SubmitEvent("submit", {bubbles: true, cancelable: true});
        form.dispatchEvent(event);
        return event.defaultPrevented;
      };
      const first = press();
      const busy = form.getAttribute("aria-busy");
      const second = press();
      return {firstCancelled: first, busy, secondCancelled: second};
    }""")
    assert outcome == {"firstCancelled": False, "busy": "true", "secondCancelled": True}
    context.close()
