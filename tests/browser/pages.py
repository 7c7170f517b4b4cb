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

from forum import demo
from forum.accounts.models import User
from forum.extensions import db
from forum.ideas.models import Board, Idea, Visibility

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


PAGES: list[PageSpec] = [
    PageSpec("board-all", lambda s: "/"),
    PageSpec("board-all-signed-in", lambda s: "/", persona="customer"),
    PageSpec("board-mobile-new", lambda s: "/boards/mobile?sort=new"),
    PageSpec("board-empty", lambda s: f"/boards/{EMPTY_BOARD}"),
    PageSpec("idea", lambda s: f"/ideas/{s.idea('Time tracking')}"),
    PageSpec("idea-signed-in", lambda s: f"/ideas/{s.idea('Export a project to CSV')}",
             persona="customer"),
    PageSpec("idea-staff", lambda s: f"/ideas/{s.idea('Dark mode')}", persona="staff"),
    PageSpec("idea-new", lambda s: "/ideas/new", persona="customer"),
    PageSpec("idea-edit", lambda s: f"/ideas/{s.idea('Gantt chart view')}/edit", persona="staff"),
    PageSpec("idea-new-errors", lambda s: "/ideas/new", persona="customer",
             then=submit_empty("Post idea")),
    PageSpec("sign-in", lambda s: "/signin"),
    PageSpec("sign-in-errors", lambda s: "/signin", then=submit_empty("Sign in")),
    PageSpec("sign-up", lambda s: "/signup"),
    PageSpec("sign-up-errors", lambda s: "/signup", then=submit_empty("Sign up")),
    PageSpec("profile", lambda s: f"/people/{s.person(PERSONAS['customer'])}"),
    PageSpec("profile-own", lambda s: f"/people/{s.person(PERSONAS['customer'])}",
             persona="customer"),
    PageSpec("not-found", lambda s: "/ideas/999999", status=404),
]


def load_demo(app: Flask) -> None:
    """The demo data, plus an empty public board so that its empty state has a page."""
    with app.app_context():
        demo.load()
        if db.session.scalar(select(Board).where(Board.slug == EMPTY_BOARD)) is None:
            db.session.add(Board(slug=EMPTY_BOARD, name="Desktop app",
                                 description="Windows, macOS and Linux.",
                                 visibility=Visibility.PUBLIC, position=10))
        db.session.commit()
