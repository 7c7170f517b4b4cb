"""Every page of the product, in one table that grows with it.

Each row names a page, builds its path from the demo data (``forum.demo.load()``) and says who
looks at it. `test_pages.py` visits each row at a phone and a desktop width, in light and dark
colour schemes, saves a screenshot, and runs axe-core on it. A new screen is one new row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import select

from forum import demo, tokens
from forum.accounts import services as accounts
from forum.accounts.models import User
from forum.extensions import db
from forum.ideas import merging
from forum.ideas import services as ideas
from forum.ideas.models import Board, Comment, Idea, Visibility
from forum.moderation import services as moderation
from forum.triage import services as triage

if TYPE_CHECKING:  # the conftest skips the tier with its reason when Playwright is missing
    from playwright.sync_api import Page

# Who looks: the demo accounts that can sign in (password `forum.demo.DEMO_PASSWORD`).
PERSONAS = {
    "customer": "customer@example.com",
    "staff": "pm@example.com",
    "admin": "admin@example.com",
}
EMPTY_BOARD = "desktop"  # a public board without ideas, for the empty state


@dataclass
class Site:
    """A live server on the demo data, with look-ups for building paths."""

    app: Flask
    url: str

    def idea(self, title: str) -> int:
        with self.app.app_context():
            idea_id = db.session.scalar(select(Idea.id).where(Idea.title == title))
        assert idea_id is not None, f"no demo idea called {title!r}"
        return idea_id

    def person(self, email: str) -> int:
        with self.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == email))
        assert user_id is not None, f"no demo account {email!r}"
        return user_id

    def comment(self, text: str) -> int:
        with self.app.app_context():
            comment_id = db.session.scalar(
                select(Comment.id).where(Comment.body == text).order_by(Comment.id).limit(1))
        assert comment_id is not None, f"no demo comment {text!r}"
        return comment_id

    def token(self, purpose: str, email: str, title: str | None = None) -> str:
        """A signed link token, as the emails carry (satisfaction, unsubscribe, reset)."""
        user_id = self.person(email)
        idea_id = self.idea(title) if title else None
        with self.app.app_context(), self.app.test_request_context():
            if purpose == "password-reset":
                return accounts.reset_token(db.session.get(User, user_id))
            return tokens.make(purpose, {"u": user_id, "i": idea_id})


@dataclass(frozen=True)
class PageSpec:
    name: str
    path: Callable[[Site], str]
    persona: str | None = None  # None: a visitor who is not signed in
    status: int = 200
    # Optional steps on the loaded page before it is judged, e.g. sending a form empty to see
    # its errors. Takes the Playwright page; leaves the browser on the page to judge.
    then: Callable[[Page], None] | None = None


def submit_empty(button: str) -> Callable[[Page], None]:
    def submit(page: Page) -> None:
        from playwright.sync_api import expect

        with page.expect_navigation():
            page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator(".field .error").first).to_be_visible()

    return submit


def type_title(text: str) -> Callable[[Page], None]:
    """Type a new idea's title and wait for the similar ideas listed under it."""
    def type_it(page: Page) -> None:
        from playwright.sync_api import expect

        page.get_by_label("Title").press_sequentially(text, delay=10)
        expect(page.locator("[data-similar-results] li").first).to_be_visible()

    return type_it


def preview_status(slug: str) -> Callable[[Page], None]:
    def preview(page: Page) -> None:
        from playwright.sync_api import expect

        page.get_by_label("New status").select_option(slug)
        with page.expect_navigation():
            page.get_by_role("button", name="Preview").click()
        expect(page.locator("[data-preview-figures]")).to_be_visible()

    return preview


def press_keys(*keys: str) -> Callable[[Page], None]:
    """Triage shortcuts: the page is judged with a row focused and selected."""
    def press(page: Page) -> None:
        for key in keys:
            page.locator("body").press(key)

    return press


# Demo ideas the staff rows decorate in `load_demo`.
STAFF_IDEA = "Export tasks to Excel"  # internal notes, priority, tags, an open report
HIDDEN_IDEA = "Print a project"  # hidden by moderation
MERGED_IDEA = "Restore deleted tasks"  # merged into "Undo delete"
REPORTED_COMMENT = "This is spam, buy cheap watches at example.net"
CUSTOMER = PERSONAS["customer"]

# Every GET route a person can open in a browser has a row in PAGES (test_pages checks it
# against the app's url_map); these are the routes without one, and why.
NOT_PAGES = {
    # Machine formats: JSON, Atom, CSS, files, downloads.
    **{endpoint: "JSON for programs" for endpoint in (
        "api.list_boards", "api.list_ideas", "api.get_idea", "api.list_comments", "api.history",
        "api.list_voters", "api.openapi_json", "api.similar", "api.list_statuses",
        "api.list_tags")},
    "search.similar": "JSON the new-idea form asks; its suggestions are row idea-new-similar",
    "changelog.feed": "an Atom feed for feed readers",
    "statuses.stylesheet": "the status colours' stylesheet",
    "static": "files",
    "triage.export_csv": "a CSV download",
    # Only redirects, to pages that have rows.
    "accounts.me": "redirects to the profile (row profile-own)",
    "notifications.open_notice": "marks the notice read and redirects to the idea",
    "accounts.confirm_email": "confirms and redirects to the board, with a message",
}

PAGES: list[PageSpec] = [
    # --- visitors ---------------------------------------------------------------------------
    PageSpec("board-all", lambda s: "/"),
    PageSpec("board-mobile-new", lambda s: "/boards/mobile?sort=new"),
    PageSpec("board-empty", lambda s: f"/boards/{EMPTY_BOARD}"),
    PageSpec("idea", lambda s: f"/ideas/{s.idea('Time tracking')}"),
    PageSpec("idea-shipped", lambda s: f"/ideas/{s.idea('Dark mode')}"),
    PageSpec("idea-merged", lambda s: f"/ideas/{s.idea(MERGED_IDEA)}"),
    PageSpec("roadmap", lambda s: "/roadmap"),
    PageSpec("changelog", lambda s: "/changelog"),
    PageSpec("search", lambda s: "/search?q=export"),
    PageSpec("search-empty", lambda s: "/search?q=zeppelin"),
    PageSpec("api-docs", lambda s: "/api/v1/docs"),
    PageSpec("sign-in", lambda s: "/signin"),
    PageSpec("sign-in-errors", lambda s: "/signin", then=submit_empty("Sign in")),
    PageSpec("sign-up", lambda s: "/signup"),
    PageSpec("sign-up-errors", lambda s: "/signup", then=submit_empty("Sign up")),
    PageSpec("password-forgot", lambda s: "/password/forgot"),
    PageSpec("password-reset", lambda s: f"/password/reset/{s.token('password-reset', CUSTOMER)}"),
    PageSpec("link-invalid", lambda s: "/password/reset/not-a-real-token", status=400),
    PageSpec("profile", lambda s: f"/people/{s.person(CUSTOMER)}"),
    # Links from emails, opened without signing in.
    PageSpec("unsubscribe",
             lambda s: f"/unsubscribe/{s.token('unsubscribe', CUSTOMER, 'Dark mode')}"),
    PageSpec("satisfaction-answer",
             lambda s: f"/satisfaction/{s.token('satisfaction', CUSTOMER, 'Dark mode')}/partly"),
    PageSpec("not-found", lambda s: "/ideas/999999", status=404),
    # --- customers --------------------------------------------------------------------------
    PageSpec("board-all-signed-in", lambda s: "/", persona="customer"),
    PageSpec("idea-signed-in", lambda s: f"/ideas/{s.idea('Export a project to CSV')}",
             persona="customer"),
    PageSpec("idea-new", lambda s: "/ideas/new", persona="customer"),
    PageSpec("idea-new-errors", lambda s: "/ideas/new", persona="customer",
             then=submit_empty("Post idea")),
    PageSpec("idea-new-similar", lambda s: "/ideas/new", persona="customer",
             then=type_title("Export my tasks")),
    PageSpec("profile-own", lambda s: f"/people/{s.person(CUSTOMER)}", persona="customer"),
    PageSpec("notifications", lambda s: "/notifications", persona="customer"),
    PageSpec("notification-settings", lambda s: "/settings/notifications", persona="customer"),
    PageSpec("account", lambda s: "/account", persona="customer"),
    PageSpec("forbidden", lambda s: "/staff/inbox", persona="customer", status=403),
    # --- the team ---------------------------------------------------------------------------
    PageSpec("idea-staff", lambda s: f"/ideas/{s.idea(STAFF_IDEA)}", persona="staff"),
    PageSpec("idea-staff-hidden", lambda s: f"/ideas/{s.idea(HIDDEN_IDEA)}", persona="staff"),
    PageSpec("idea-edit", lambda s: f"/ideas/{s.idea('Gantt chart view')}/edit", persona="staff"),
    PageSpec("status-change", lambda s: f"/ideas/{s.idea('Gantt chart view')}/status",
             persona="staff"),
    PageSpec("status-change-preview", lambda s: f"/ideas/{s.idea('Gantt chart view')}/status",
             persona="staff", then=preview_status("shipped")),
    PageSpec("triage-inbox", lambda s: "/staff/inbox", persona="staff",
             then=press_keys("j", "j", "x")),
    PageSpec("triage-inbox-filtered", lambda s: "/staff/inbox?board=mobile&sort=top",
             persona="staff"),
    PageSpec("staff-ideas", lambda s: "/staff/ideas?status=open&min_votes=2&sort=value",
             persona="staff"),
    PageSpec("staff-ideas-empty", lambda s: "/staff/ideas?voter=nobody%40example.com",
             persona="staff"),
    PageSpec("staff-ideas-filter-errors", lambda s: "/staff/ideas?from=yesterday&min_votes=many",
             persona="staff", status=422),
    PageSpec("insights", lambda s: "/staff/insights", persona="staff"),
    PageSpec("insights-public", lambda s: "/staff/insights?scope=public", persona="staff"),
    PageSpec("duplicates", lambda s: "/duplicates", persona="staff"),
    PageSpec("merge-pick", lambda s: f"/ideas/{s.idea('Dark theme for the dashboard')}/merge",
             persona="staff"),
    PageSpec("merge-compare", lambda s: f"/ideas/{s.idea('Dark theme for the dashboard')}"
             f"/merge/{s.idea('Dark mode')}", persona="staff"),
    PageSpec("moderation", lambda s: "/staff/moderation", persona="staff"),
    PageSpec("comment-edit", lambda s: f"/staff/comments/{s.comment(REPORTED_COMMENT)}/edit",
             persona="staff"),
    PageSpec("tags", lambda s: "/staff/tags", persona="staff"),
    PageSpec("export", lambda s: "/staff/export", persona="staff"),
    PageSpec("send-log", lambda s: "/admin/mail", persona="staff"),
    PageSpec("account-staff", lambda s: "/account", persona="staff"),
    # --- administrators ---------------------------------------------------------------------
    PageSpec("statuses-admin", lambda s: "/admin/statuses", persona="admin"),
    PageSpec("boards-admin", lambda s: "/admin/boards", persona="admin"),
    PageSpec("import", lambda s: "/admin/import", persona="admin"),
    PageSpec("admin-webhooks", lambda s: "/admin/webhooks", persona="admin"),
    PageSpec("admin-webhooks-errors", lambda s: "/admin/webhooks", persona="admin",
             then=submit_empty("Create webhook")),
]


def load_demo(app: Flask) -> None:
    """The demo data, plus what the team's screens show when there is work: an empty public
    board (for its empty state), an idea with internal notes, priority and tags, a hidden
    idea, a merged one, and a reported comment."""
    with app.app_context():
        demo.load()
        if db.session.scalar(select(Board).where(Board.slug == EMPTY_BOARD)) is None:
            db.session.add(Board(slug=EMPTY_BOARD, name="Desktop app",
                                 description="Windows, macOS and Linux.",
                                 visibility=Visibility.PUBLIC, position=10))
            _team_work()
        db.session.commit()


def _team_work() -> None:
    pam = accounts.find_by_email(PERSONAS["staff"])
    chris = accounts.find_by_email(CUSTOMER)

    def idea(title: str) -> Idea:
        return db.session.scalar(select(Idea).where(Idea.title == title))

    excel = idea(STAFF_IDEA)
    ideas.post_comment(excel, pam, "Sales says three enterprise deals ask for this.",
                       internal=True)
    ideas.post_comment(excel, pam, "Same library as the CSV export; **small** once that ships.",
                       internal=True)
    triage.set_priority(excel, pam, impact=4, effort=2)
    reporting = triage.create_tag(pam, name="Reporting", color="#0e7490")
    enterprise = triage.create_tag(pam, name="Enterprise", color="#7c3aed")
    triage.set_tags(excel, [reporting, enterprise], pam)
    spam = ideas.post_comment(excel, chris, REPORTED_COMMENT)
    moderation.report(chris, excel, reason="spam", comment=spam,
                      details="A link to a shop, nothing to do with the idea.")
    triage.set_idea_hidden(idea(HIDDEN_IDEA), pam, hidden=True, reason="Posted twice by mistake.")
    merging.merge_ideas(idea(MERGED_IDEA), idea("Undo delete"), pam)
