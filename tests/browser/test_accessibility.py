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
        # activeElement, not :focus: a date field's picker button has the focus inside it.
        label = page.evaluate("() => { const el = document.activeElement;"
                              " return el.getAttribute('aria-label') || el.innerText; }")
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


def test_a_product_manager_triages_by_keyboard_alone(browser, live_app, live_server):
    """Filter, pick, ship and mark reviewed with Tab, Enter, typing and the triage shortcuts."""
    ids = seed(live_app)
    with live_app.app_context():
        bob = accounts.find_by_email("bob@example.com")
        mobile = Board(slug="mobile", name="Mobile app", position=1)
        db.session.add(mobile)
        db.session.flush()
        widget = ideas.submit_idea(bob, title="Home screen widget", body="", board=mobile).id
        offline = ideas.submit_idea(bob, title="Offline mode", body="", board=mobile).id
        db.session.commit()
    state = sign_in_state(browser, live_server.url, "pam@example.com", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    page.goto(live_server.url + "/")
    stops = tab_to(page, re.compile("^Inbox$"))
    assert all(stop["visible"] for stop in stops), stops
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible()
    expect(page.locator(".triage-row")).to_have_count(4)
    page.wait_for_load_state()  # the shortcuts are a deferred script

    page.keyboard.press("/")  # to the filters
    expect(page.get_by_label("Board").first).to_be_focused()
    page.keyboard.type("Mobile")  # a closed select picks the option typed
    expect(page.get_by_label("Board").first).to_have_value("mobile")
    tab_to(page, re.compile("^Apply filters$"))
    page.keyboard.press("Enter")
    expect(page.locator(".triage-row")).to_have_count(2)
    page.wait_for_load_state()

    # j/x pick both mobile ideas; a jumps to the bulk action.
    for key in ("j", "x", "j", "x"):
        page.keyboard.press(key)
    expect(page.locator(".triage-row.current")).to_contain_text("Home screen widget")
    page.keyboard.press("a")
    expect(page.get_by_label("Action")).to_be_focused()
    page.keyboard.type("Set status")
    page.keyboard.press("Tab")
    expect(page.locator("#bulk-value")).to_be_focused()
    page.keyboard.type("Planned")
    expect(page.locator("#bulk-value")).to_have_value("planned")
    tab_to(page, re.compile("^Apply$"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("2 ideas updated.")).to_be_visible()
    expect(page.locator("#live")).to_have_text("2 ideas updated.")

    # The rest of the inbox: r marks the current idea reviewed, and the inbox is empty.
    page.goto(live_server.url + "/staff/inbox")
    expect(page.locator(".triage-row")).to_have_count(2)
    for left in (1, 0):
        page.keyboard.press("j")
        with page.expect_navigation():
            page.keyboard.press("r")
        page.wait_for_load_state()
        expect(page.locator(".triage-row")).to_have_count(left)
    expect(page.get_by_text("Inbox zero: the team has acted on every idea.")).to_be_visible()
    with live_app.app_context():
        assert {db.session.get(Idea, i).status.slug for i in (widget, offline)} == {"planned"}
        assert all(db.session.get(Idea, ids[key]).staff_acted_at for key in ("csv", "gantt"))
    context.close()


def test_a_vote_the_server_fails_rolls_back_with_a_message(browser, live_app, live_server):
    """A 500 from the server (intercepted in the browser): count, pressed state and the
    button's busy state come back, and the reader is told."""
    ids = seed(live_app)
    state = sign_in_state(browser, live_server.url, "anna@example.com", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    page.goto(f"{live_server.url}/?sort=new")
    row = page.locator(".idea-row", has_text="Export tasks to CSV")
    button = row.get_by_role("button", name=re.compile("Vote for"))
    seen = []

    def fail(route):
        # What the page showed while the request was out: the optimistic vote.
        seen.append((row.locator("[data-vote-count]").inner_text(),
                     button.get_attribute("aria-pressed")))
        route.fulfill(status=500, content_type="text/html", body="<h1>Internal error</h1>")

    page.route("**/vote", fail)
    button.click()
    expect(page.locator("#live")).to_have_text("Your vote could not be saved. Please try again.")
    assert seen == [("2", "true")]
    expect(row.locator("[data-vote-count]")).to_have_text("1")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).not_to_have_attribute("aria-busy", "true")
    with live_app.app_context():
        assert db.session.get(Idea, ids["csv"]).vote_count == 1
    context.close()
