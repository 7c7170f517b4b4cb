"""Every route, every persona: what each one gets, and proof that refusals change nothing.

Our job is to stop Fred ("other": a customer who is not the author). The table below has one
entry per endpoint of ``app.url_map``; a new route fails ``test_every_route_is_classified``
until someone writes down who may use it. Each entry lists checks: a method, the URL (built
from the ``world`` fixture), the form sent, and the expected answer per persona.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.conftest import PASSWORD
from tests.hostile import fingerprint
from tests.security.conftest import PERSONAS, World


@dataclass(frozen=True)
class Expect:
    status: int
    location: str | None = None   # a redirect's target starts with this
    writes: bool = False          # may the request change the database?

    def __str__(self) -> str:
        return f"{self.status}{' -> ' + self.location if self.location else ''}"


OK = Expect(200)
NOT_FOUND = Expect(404)
FORBIDDEN = Expect(403)
INVALID = Expect(422)
SIGN_IN = Expect(302, "/signin")
HOME = Expect(302, "/")          # bounced home, nothing done


def done(location: str) -> Expect:
    return Expect(302, location, writes=True)


def everyone(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(PERSONAS, expect)


def members(expect: Expect, *, anonymous: Expect = SIGN_IN) -> dict[str, Expect]:
    return {**everyone(expect), "anonymous": anonymous}


def team(expect: Expect, *, customers: Expect = NOT_FOUND, anonymous: Expect | None = None
         ) -> dict[str, Expect]:
    return {"anonymous": anonymous or customers, "customer": customers, "other": customers,
            "staff": expect, "admin": expect}


@dataclass(frozen=True)
class Check:
    method: str
    url: Callable[[World], str]
    expect: dict[str, Expect]
    data: Callable[[World], dict] = field(default=lambda w: {})
    why: str = ""


def idea_url(kind: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/ideas/{w.ideas[kind].id}{suffix}"


def idea_form(board: str) -> Callable[[World], dict]:
    return lambda w: {"title": "Fred was here", "body": "x", "board": w.boards[board].id}


ROUTES: dict[str, list[Check]] = {
    "static": [Check("GET", lambda w: "/static/css/app.css", everyone(OK))],
    "ideas.index": [Check("GET", lambda w: "/", everyone(OK))],
    "ideas.board": [
        Check("GET", lambda w: "/boards/general", everyone(OK)),
        Check("GET", lambda w: "/boards/lounge", members(OK, anonymous=NOT_FOUND)),
        Check("GET", lambda w: "/boards/team", team(OK)),
        Check("GET", lambda w: "/boards/nope", everyone(NOT_FOUND)),
    ],
    "ideas.new_idea": [
        Check("GET", lambda w: "/ideas/new", members(OK)),
        Check("POST", lambda w: "/ideas/new", members(done("/ideas/")),
              data=idea_form("public")),
        Check("POST", lambda w: "/ideas/new", members(done("/ideas/")),
              data=idea_form("members")),
        Check("POST", lambda w: "/ideas/new", team(done("/ideas/"), customers=INVALID,
                                                   anonymous=SIGN_IN),
              data=idea_form("staff"), why="a customer cannot pick a staff board"),
    ],
    "ideas.show": [
        Check("GET", idea_url("public"), everyone(OK)),
        Check("GET", idea_url("public", "/dark-mode"), everyone(OK)),
        Check("GET", idea_url("members"), members(OK, anonymous=NOT_FOUND)),
        Check("GET", idea_url("staff"), team(OK)),
        Check("GET", idea_url("hidden"), team(OK)),
        Check("GET", idea_url("merged"), team(OK), why="merged into a staff-only idea"),
        Check("GET", lambda w: "/ideas/999999", everyone(NOT_FOUND)),
    ],
    "ideas.edit": [
        Check("GET", idea_url("members", "/edit"),
              {**team(OK, customers=FORBIDDEN, anonymous=SIGN_IN), "customer": OK}),
        Check("POST", idea_url("members", "/edit"),
              {**team(done("/ideas/"), customers=FORBIDDEN, anonymous=SIGN_IN),
               "customer": done("/ideas/")}, data=idea_form("members")),
        Check("POST", idea_url("public", "/edit"),
              team(done("/ideas/"), customers=FORBIDDEN, anonymous=SIGN_IN),
              data=idea_form("public"), why="the team has acted (an internal note)"),
        Check("POST", idea_url("staff", "/edit"), team(done("/ideas/"), anonymous=SIGN_IN),
              data=idea_form("staff")),
        Check("POST", idea_url("hidden", "/edit"), team(done("/ideas/"), anonymous=SIGN_IN),
              data=idea_form("public"), why="even its author cannot edit a hidden idea"),
    ],
    "ideas.vote": [
        Check("POST", idea_url("public", "/vote"), members(done("/ideas/"))),
        Check("POST", idea_url("members", "/vote"), members(done("/ideas/"))),
        Check("POST", idea_url("staff", "/vote"), team(done("/ideas/"), anonymous=SIGN_IN)),
        Check("POST", idea_url("hidden", "/vote"), team(done("/ideas/"), anonymous=SIGN_IN)),
        Check("POST", idea_url("merged", "/vote"), team(done("/ideas/"), anonymous=SIGN_IN)),
    ],
    "ideas.unvote": [
        Check("POST", idea_url("public", "/unvote"), members(done("/ideas/"))),
        Check("POST", idea_url("staff", "/unvote"), team(done("/ideas/"), anonymous=SIGN_IN)),
    ],
    "ideas.comment": [
        Check("POST", idea_url("public", "/comments"), members(done("/ideas/")),
              data=lambda w: {"body": "Fred's comment"}),
        Check("POST", idea_url("staff", "/comments"), team(done("/ideas/"), anonymous=SIGN_IN),
              data=lambda w: {"body": "Fred's comment"}),
        Check("POST", idea_url("public", "/comments"), members(INVALID),
              data=lambda w: {"body": ""}),
    ],
    "ideas.follow": [
        Check("POST", idea_url("public", "/follow"), members(done("/ideas/")),
              data=lambda w: {"level": "all"}),
        Check("POST", idea_url("staff", "/follow"), team(done("/ideas/"), anonymous=SIGN_IN),
              data=lambda w: {"level": "all"}),
        Check("POST", idea_url("public", "/follow"), members(Expect(400)),
              data=lambda w: {"level": "everything"}),
    ],
    "accounts.sign_up": [
        Check("GET", lambda w: "/signup", members(HOME, anonymous=OK)),
        Check("POST", lambda w: "/signup", members(HOME, anonymous=done("/")),
              data=lambda w: {"name": "New", "email": "new@example.com", "password": PASSWORD}),
        Check("POST", lambda w: "/signup", members(HOME, anonymous=INVALID),
              data=lambda w: {"name": "Copy", "email": "anna@example.com",
                              "password": PASSWORD},
              why="an address that has an account"),
    ],
    "accounts.sign_in": [
        Check("GET", lambda w: "/signin", members(HOME, anonymous=OK)),
        Check("POST", lambda w: "/signin", members(HOME, anonymous=INVALID),
              data=lambda w: {"email": "anna@example.com", "password": "wrong password"}),
        Check("POST", lambda w: "/signin", members(HOME, anonymous=Expect(302, "/")),
              data=lambda w: {"email": "fred@example.com", "password": PASSWORD}),
    ],
    "accounts.sign_out": [Check("POST", lambda w: "/signout", everyone(HOME))],
    "accounts.profile": [
        Check("GET", lambda w: f"/people/{w.people['customer'].id}", everyone(OK)),
        Check("GET", lambda w: f"/people/{w.people['staff'].id}", everyone(OK)),
        Check("GET", lambda w: "/people/999999", everyone(NOT_FOUND)),
    ],
    "accounts.me": [Check("GET", lambda w: "/me", members(Expect(302, "/people/")))],
    "i18n.choose_language": [
        Check("POST", lambda w: "/language", members(done("/"), anonymous=HOME),
              data=lambda w: {"locale": "fr"}, why="anonymous: a cookie, no row"),
        Check("POST", lambda w: "/language", everyone(HOME), data=lambda w: {"locale": "xx"}),
    ],
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}

CASES = [
    pytest.param(endpoint, check, persona, id=f"{endpoint}[{n}]-{check.method}-{persona}")
    for endpoint, checks in ROUTES.items()
    for n, check in enumerate(checks)
    for persona in PERSONAS
]


def test_every_route_is_classified(app):
    """A route without a row in ROUTES is a route nobody decided the permissions of."""
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - IGNORED_METHODS):
            if not any(c.method == method for c in ROUTES.get(rule.endpoint, [])):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "add these to ROUTES in tests/security/test_personas.py: " + ", ".join(
        missing)
    unknown = set(ROUTES) - {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not unknown, f"ROUTES lists endpoints the app does not have: {unknown}"


@pytest.mark.parametrize(("endpoint", "check", "persona"), CASES)
def test_persona_gets_what_the_table_says(app, world, client_as, endpoint, check, persona):
    url = check.url(world)
    adapter = app.url_map.bind("forum.test")
    assert adapter.match(url.split("?")[0], method=check.method)[0] == endpoint, url
    expect = check.expect[persona]
    before = fingerprint()

    with client_as(persona).open(url, method=check.method, data=check.data(world)) as response:
        response.get_data()

    got = f"{response.status_code}"
    if response.status_code == 302:
        got += f" -> {response.location}"
    assert response.status_code == expect.status, f"{persona}: expected {expect}, got {got}"
    if expect.location:
        assert response.location.startswith(expect.location), f"{persona}: got {got}"
    if check.method == "GET" or not expect.writes:
        assert fingerprint() == before, f"{persona}: {check.method} {url} changed the database"
