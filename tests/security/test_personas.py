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

from forum import tokens
from forum.extensions import db
from forum.ideas.models import Status
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
    json: Callable[[World], dict] | None = None   # a JSON body (the API) instead of a form

    def body(self, world: World) -> dict:
        return {"json": self.json(world)} if self.json else {"data": self.data(world)}


def idea_url(kind: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/ideas/{w.ideas[kind].id}{suffix}"


def idea_form(board: str) -> Callable[[World], dict]:
    return lambda w: {"title": "Fred was here", "body": "x", "board": w.boards[board].id}


def staff_only(expect: Expect) -> dict[str, Expect]:
    """The team's pages: sign in first, and customers are told no (403)."""
    return team(expect, customers=FORBIDDEN, anonymous=SIGN_IN)


def admin_only(expect: Expect) -> dict[str, Expect]:
    return {**staff_only(FORBIDDEN), "admin": expect}


# The JSON API: 401 for a caller it does not know, 403 for a customer on a team call.
UNAUTHORIZED = Expect(401)


def api(expect: Expect) -> dict[str, Expect]:
    """A call for signed-in callers."""
    return members(expect, anonymous=UNAUTHORIZED)


def api_team(expect: Expect) -> dict[str, Expect]:
    return team(expect, customers=FORBIDDEN, anonymous=UNAUTHORIZED)


def api_done(status: int) -> Expect:
    return Expect(status, writes=True)


def api_idea(kind: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/ideas/{w.ideas[kind].id}{suffix}"


def status_id(slug: str) -> int:
    return db.session.scalar(db.select(Status.id).where(Status.slug == slug))


def forged(purpose: str, url: str) -> Callable[[World], str]:
    """A link whose token is really signed, but for another purpose (each has its own salt):
    ``url`` has ``{token}`` where it goes."""
    return lambda w: url.format(token=tokens.make(purpose, {
        "u": w.people["customer"].id, "i": w.ideas["public"].id,
        "e": w.people["customer"].email}))


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
    # --- accounts: API tokens, password reset, address confirmation -------------------------
    "accounts.account": [Check("GET", lambda w: "/account", members(OK))],
    "accounts.create_token": [
        Check("POST", lambda w: "/account/tokens", members(Expect(200, writes=True)),
              data=lambda w: {"name": "Fred's script"}, why="the secret is shown once, no PRG"),
        Check("POST", lambda w: "/account/tokens", members(INVALID),
              data=lambda w: {"name": ""}),
    ],
    "accounts.revoke_token": [
        Check("POST", lambda w: "/account/tokens/999999/revoke", members(NOT_FOUND)),
    ],
    "accounts.forgot_password": [
        Check("GET", lambda w: "/password/forgot", everyone(OK)),
        Check("POST", lambda w: "/password/forgot", everyone(done("/signin")),
              data=lambda w: {"email": "anna@example.com"},
              why="the same answer for every address; a link is mailed to its owner only"),
        Check("POST", lambda w: "/password/forgot", everyone(INVALID),
              data=lambda w: {"email": "not an address"}),
    ],
    "accounts.reset_password": [
        Check("GET", forged("unsubscribe", "/password/reset/{token}"), everyone(Expect(400))),
        Check("POST", forged("unsubscribe", "/password/reset/{token}"), everyone(Expect(400)),
              data=lambda w: {"password": "Fred owns this account now"}),
        Check("POST", lambda w: "/password/reset/forged", everyone(Expect(400)),
              data=lambda w: {"password": "Fred owns this account now"}),
    ],
    "accounts.confirm_email": [
        Check("GET", forged("password-reset", "/confirm/{token}"), everyone(Expect(400))),
        Check("GET", lambda w: "/confirm/forged", everyone(Expect(400))),
    ],
    # --- the JSON API ---------------------------------------------------------------------
    "api.list_ideas": [
        Check("GET", lambda w: "/api/v1/ideas", everyone(OK)),
        Check("GET", lambda w: "/api/v1/ideas?board=lounge", members(OK, anonymous=INVALID),
              why="a board one may not see answers like an unknown one"),
        Check("GET", lambda w: "/api/v1/ideas?board=team", team(OK, customers=INVALID)),
    ],
    "api.create_idea": [
        Check("POST", lambda w: "/api/v1/ideas", api(api_done(201)),
              json=lambda w: {"title": "Fred was here", "body": "x", "board": "general"}),
        Check("POST", lambda w: "/api/v1/ideas",
              {**api_team(api_done(201)), "customer": INVALID, "other": INVALID},
              json=lambda w: {"title": "Fred was here", "body": "x", "board": "team"}),
        Check("POST", lambda w: "/api/v1/ideas", api(Expect(400)),
              data=lambda w: {"title": "Fred was here", "body": "x"}, why="not JSON"),
    ],
    "api.get_idea": [
        Check("GET", api_idea("public"), everyone(OK)),
        Check("GET", api_idea("members"), members(OK, anonymous=NOT_FOUND)),
        Check("GET", api_idea("staff"), team(OK)),
        Check("GET", api_idea("hidden"), team(OK)),
        Check("GET", api_idea("merged"), team(OK), why="merged into a staff-only idea"),
    ],
    "api.patch_idea": [
        Check("PATCH", api_idea("members"),
              {**api_team(api_done(200)), "customer": api_done(200)},
              json=lambda w: {"title": "Fred was here"}),
        Check("PATCH", api_idea("public"), api_team(api_done(200)),
              json=lambda w: {"title": "Fred was here"},
              why="the team has acted (an internal note)"),
        Check("PATCH", api_idea("staff"), {**api_team(api_done(200)), "customer": NOT_FOUND,
                                           "other": NOT_FOUND},
              json=lambda w: {"title": "Fred was here"}),
        Check("PATCH", api_idea("hidden"), {**api_team(api_done(200)), "customer": NOT_FOUND,
                                            "other": NOT_FOUND},
              json=lambda w: {"title": "Fred was here"}),
    ],
    "api.vote": [
        Check("POST", api_idea("public", "/vote"), api(api_done(200))),
        Check("POST", api_idea("staff", "/vote"),
              {**api_team(api_done(200)), "customer": NOT_FOUND, "other": NOT_FOUND}),
        Check("POST", api_idea("merged", "/vote"),
              {**api_team(api_done(200)), "customer": NOT_FOUND, "other": NOT_FOUND}),
    ],
    "api.unvote": [
        Check("DELETE", api_idea("public", "/vote"), api(api_done(200))),
        Check("DELETE", api_idea("hidden", "/vote"),
              {**api_team(api_done(200)), "customer": NOT_FOUND, "other": NOT_FOUND},
              why="even its author cannot touch a hidden idea"),
    ],
    "api.vote_on_behalf": [
        Check("POST", api_idea("public", "/votes"), api_team(api_done(201)),
              json=lambda w: {"email": "carla@example.com"}),
    ],
    "api.list_voters": [
        Check("GET", api_idea("public", "/voters"), api_team(OK)),
        Check("GET", api_idea("staff", "/voters"), api_team(OK)),
    ],
    "api.change_status": [
        Check("POST", api_idea("public", "/status"), api_team(api_done(200)),
              json=lambda w: {"status": "planned"}),
        Check("POST", api_idea("public", "/status"), api_team(INVALID),
              json=lambda w: {"status": "declined"}, why="closing needs a note"),
    ],
    "api.history": [
        Check("GET", api_idea("public", "/history"), everyone(OK)),
        Check("GET", api_idea("staff", "/history"), team(OK)),
        Check("GET", api_idea("merged", "/history"), team(OK)),
    ],
    "api.merge": [
        Check("POST", api_idea("public", "/merge"), api_team(api_done(200)),
              json=lambda w: {"into": w.ideas["members"].id}),
    ],
    "api.unmerge": [
        Check("POST", api_idea("merged", "/unmerge"), api_team(api_done(200))),
    ],
    "api.list_comments": [
        Check("GET", api_idea("public", "/comments"), everyone(OK)),
        Check("GET", api_idea("staff", "/comments"), team(OK)),
    ],
    "api.post_comment": [
        Check("POST", api_idea("public", "/comments"), api(api_done(201)),
              json=lambda w: {"body": "Fred's comment"}),
        Check("POST", api_idea("public", "/comments"), api_team(api_done(201)),
              json=lambda w: {"body": "Pretending to be the team", "internal": True}),
        Check("POST", api_idea("staff", "/comments"),
              {**api_team(api_done(201)), "customer": NOT_FOUND, "other": NOT_FOUND},
              json=lambda w: {"body": "Fred's comment"}),
        Check("POST", api_idea("public", "/comments"), api(INVALID),
              json=lambda w: {"body": ""}),
    ],
    "api.similar": [
        Check("GET", lambda w: "/api/v1/similar?title=dark+mode", everyone(OK)),
    ],
    "api.list_statuses": [Check("GET", lambda w: "/api/v1/statuses", everyone(OK))],
    "api.list_boards": [Check("GET", lambda w: "/api/v1/boards", everyone(OK))],
    "api.list_tags": [Check("GET", lambda w: "/api/v1/tags", everyone(OK))],
    "api.openapi_json": [Check("GET", lambda w: "/api/v1/openapi.json", everyone(OK))],
    "api.docs": [Check("GET", lambda w: "/api/v1/docs", everyone(OK))],
    # --- changelog and satisfaction answers -----------------------------------------------
    "changelog.index": [Check("GET", lambda w: "/changelog", everyone(OK))],
    "changelog.feed": [Check("GET", lambda w: "/changelog.atom", everyone(OK))],
    "changelog.answer": [
        Check("GET", forged("unsubscribe", "/satisfaction/{token}/yes"), everyone(Expect(400))),
        Check("POST", forged("unsubscribe", "/satisfaction/{token}/no"), everyone(Expect(400))),
        Check("POST", lambda w: "/satisfaction/forged/no", everyone(Expect(400))),
    ],
    # --- search ---------------------------------------------------------------------------
    "search.search": [
        Check("GET", lambda w: "/search?q=dark", everyone(OK)),
        Check("GET", lambda w: "/search?board=team", everyone(OK)),
    ],
    "search.similar": [Check("GET", lambda w: "/similar?title=dark+mode", everyone(OK))],
    # --- statuses and roadmap -------------------------------------------------------------
    "statuses.stylesheet": [Check("GET", lambda w: "/statuses.css", everyone(OK))],
    "statuses.roadmap": [Check("GET", lambda w: "/roadmap", everyone(OK))],
    "statuses.change": [
        Check("GET", idea_url("public", "/status"), staff_only(OK)),
        Check("GET", idea_url("public", "/status?status=planned"), staff_only(OK),
              why="the preview of who will be told"),
        Check("POST", idea_url("public", "/status"), staff_only(done("/ideas/")),
              data=lambda w: {"status": "planned"}),
        Check("POST", idea_url("public", "/status"), staff_only(INVALID),
              data=lambda w: {"status": "declined"}, why="closing needs a note"),
    ],
    "statuses.admin": [
        Check("GET", lambda w: "/admin/statuses", admin_only(OK)),
        Check("POST", lambda w: "/admin/statuses", admin_only(done("/admin/statuses")),
              data=lambda w: {"name": "Fred's status", "kind": "open", "color": "#123456"}),
    ],
    "statuses.edit": [
        Check("POST", lambda w: f"/admin/statuses/{status_id('open')}",
              admin_only(done("/admin/statuses")),
              data=lambda w: {"name": "Fred's status", "color": "#123456"}),
    ],
    "statuses.move": [
        Check("POST", lambda w: f"/admin/statuses/{status_id('planned')}/move",
              admin_only(done("/admin/statuses")), data=lambda w: {"direction": "up"}),
    ],
    "statuses.retire": [
        Check("POST", lambda w: f"/admin/statuses/{status_id('under_review')}/retire",
              admin_only(done("/admin/statuses")), data=lambda w: {"retired": "1"}),
    ],
    # --- duplicates: merge, unmerge and the queue -----------------------------------------
    "merging.pick": [
        Check("GET", idea_url("public", "/merge"), staff_only(OK)),
        Check("GET", idea_url("merged", "/merge"), staff_only(Expect(302, "/ideas/")),
              why="already merged"),
    ],
    "merging.compare": [
        Check("GET", lambda w: f"/ideas/{w.ideas['public'].id}/merge/{w.ideas['members'].id}",
              staff_only(OK)),
    ],
    "merging.merge": [
        Check("POST", lambda w: f"/ideas/{w.ideas['public'].id}/merge/{w.ideas['members'].id}",
              staff_only(done("/ideas/"))),
    ],
    "merging.unmerge": [Check("POST", idea_url("merged", "/unmerge"), staff_only(done("/ideas/")))],
    "merging.queue": [Check("GET", lambda w: "/duplicates", staff_only(OK))],
    "merging.dismiss": [
        Check("POST", lambda w: "/duplicates/dismiss", staff_only(done("/duplicates")),
              data=lambda w: {"first": w.ideas["public"].id, "second": w.ideas["members"].id}),
        Check("POST", lambda w: "/duplicates/dismiss", staff_only(Expect(400)),
              data=lambda w: {"first": "x"}),
    ],
    # --- notifications and mail -----------------------------------------------------------
    "notifications.index": [Check("GET", lambda w: "/notifications", members(OK))],
    "notifications.open_notice": [
        Check("GET", lambda w: "/notifications/999999", members(NOT_FOUND)),
    ],
    "notifications.read_all": [
        Check("POST", lambda w: "/notifications/read", members(done("/notifications"))),
    ],
    "notifications.preferences": [
        Check("GET", lambda w: "/settings/notifications", members(OK)),
        Check("POST", lambda w: "/settings/notifications",
              members(done("/settings/notifications")), data=lambda w: {"frequency": "daily"}),
        Check("POST", lambda w: "/settings/notifications", members(INVALID),
              data=lambda w: {"frequency": "hourly"}),
    ],
    "notifications.resend_confirmation": [
        Check("POST", lambda w: "/settings/confirm", members(done("/settings/notifications"))),
    ],
    "notifications.unsubscribe_page": [
        Check("GET", forged("satisfaction", "/unsubscribe/{token}"), everyone(Expect(400))),
    ],
    "notifications.unsubscribe": [
        Check("POST", forged("satisfaction", "/unsubscribe/{token}"), everyone(Expect(400)),
              data=lambda w: {"scope": "all"}),
        Check("POST", lambda w: "/unsubscribe/forged", everyone(Expect(400)),
              data=lambda w: {"scope": "all"}),
    ],
    "notifications.mail_log": [
        Check("GET", lambda w: "/admin/mail", staff_only(OK)),
        Check("POST", lambda w: "/admin/mail", staff_only(done("/admin/mail")),
              data=lambda w: {"to": "fred@example.com"}),
    ],
    "notifications.retry": [
        Check("POST", lambda w: "/admin/mail/999999/retry", staff_only(Expect(302, "/admin/mail"))),
    ],
    # --- moderation -----------------------------------------------------------------------
    "moderation.report_idea": [
        Check("POST", idea_url("public", "/report"), members(done("/ideas/")),
              data=lambda w: {"reason": "spam"}),
        Check("POST", idea_url("staff", "/report"), team(done("/ideas/"), anonymous=SIGN_IN),
              data=lambda w: {"reason": "spam"}),
        Check("POST", idea_url("hidden", "/report"), team(done("/ideas/"), anonymous=SIGN_IN),
              data=lambda w: {"reason": "spam"}),
    ],
    "moderation.report_comment": [
        Check("POST", lambda w: f"/comments/{w.internal_note.id}/report",
              team(done("/ideas/"), anonymous=SIGN_IN), data=lambda w: {"reason": "spam"}),
        Check("POST", lambda w: f"/comments/{w.hidden_comment.id}/report",
              team(done("/ideas/"), anonymous=SIGN_IN), data=lambda w: {"reason": "spam"}),
    ],
    "moderation.queue": [Check("GET", lambda w: "/staff/moderation", staff_only(OK))],
    "moderation.resolve": [
        Check("POST", lambda w: "/staff/reports/999999/resolve", staff_only(NOT_FOUND),
              data=lambda w: {"action": "dismiss"}),
    ],
    "moderation.ban": [
        Check("POST", lambda w: f"/staff/people/{w.people['other'].id}/ban",
              staff_only(done("/people/"))),
        Check("POST", lambda w: f"/staff/people/{w.people['customer'].id}/unban",
              staff_only(done("/people/"))),
        Check("POST", lambda w: f"/staff/people/{w.people['admin'].id}/ban",
              staff_only(Expect(302, "/people/")), why="team accounts cannot be banned"),
    ],
    # --- insights -------------------------------------------------------------------------
    "insights.dashboard": [
        Check("GET", lambda w: "/staff/insights", staff_only(OK)),
        Check("GET", lambda w: "/staff/insights?scope=public", staff_only(OK)),
    ],
    # --- the team's triage screens --------------------------------------------------------
    "triage.inbox": [Check("GET", lambda w: "/staff/inbox", staff_only(OK))],
    "triage.idea_list": [Check("GET", lambda w: "/staff/ideas", staff_only(OK))],
    "triage.bulk": [
        Check("POST", lambda w: "/staff/ideas/bulk", staff_only(done("/staff/inbox")),
              data=lambda w: {"ids": [w.ideas["public"].id, w.ideas["staff"].id],
                              "action": "reviewed"}),
    ],
    "triage.bulk_merge": [
        Check("POST", lambda w: "/staff/ideas/bulk/merge", staff_only(done("/staff/inbox")),
              data=lambda w: {"ids": [w.ideas["staff"].id], "into": str(w.ideas["public"].id)}),
        Check("POST", lambda w: "/staff/ideas/bulk/merge", staff_only(OK),
              data=lambda w: {"ids": [w.ideas["staff"].id], "into": "export"},
              why="words, not a number: the matching ideas are offered to choose from"),
    ],
    "triage.save_view": [
        Check("POST", lambda w: "/staff/views", staff_only(done("/staff/ideas")),
              data=lambda w: {"name": "Fred's view", "board": "general"}),
    ],
    "triage.delete_view": [
        Check("POST", lambda w: "/staff/views/999999/delete", staff_only(NOT_FOUND)),
    ],
    "triage.reviewed": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/reviewed",
              staff_only(done("/ideas/"))),
    ],
    "triage.change_status": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/status",
              staff_only(done("/ideas/")), data=lambda w: {"status": "planned"}),
    ],
    "triage.set_owner": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/owner",
              staff_only(done("/ideas/")), data=lambda w: {"owner": w.people["staff"].id}),
    ],
    "triage.set_tags": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/tags",
              staff_only(done("/ideas/"))),
    ],
    "triage.move_board": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/board",
              staff_only(done("/ideas/")), data=lambda w: {"board": w.boards["members"].id}),
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/board",
              staff_only(Expect(400)), data=lambda w: {"board": "999999"}),
    ],
    "triage.set_priority": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/priority",
              staff_only(done("/ideas/")), data=lambda w: {"impact": "3", "effort": "2"}),
    ],
    "triage.hide_idea": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/hide",
              staff_only(done("/ideas/")), data=lambda w: {"reason": "spam"}),
    ],
    "triage.unhide_idea": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['hidden'].id}/unhide",
              staff_only(done("/ideas/"))),
    ],
    "triage.vote_on_behalf": [
        Check("POST", lambda w: f"/staff/ideas/{w.ideas['public'].id}/votes",
              staff_only(done("/ideas/")), data=lambda w: {"email": "carla@example.com"}),
    ],
    "triage.hide_comment": [
        Check("POST", lambda w: f"/staff/comments/{w.internal_note.id}/hide",
              staff_only(done("/ideas/"))),
    ],
    "triage.unhide_comment": [
        Check("POST", lambda w: f"/staff/comments/{w.hidden_comment.id}/unhide",
              staff_only(done("/ideas/"))),
    ],
    "triage.edit_comment": [
        Check("GET", lambda w: f"/staff/comments/{w.internal_note.id}/edit", staff_only(OK)),
        Check("POST", lambda w: f"/staff/comments/{w.hidden_comment.id}/edit",
              staff_only(done("/ideas/")), data=lambda w: {"body": "Rude [removed]"}),
        Check("POST", lambda w: f"/staff/comments/{w.hidden_comment.id}/edit",
              staff_only(INVALID), data=lambda w: {"body": ""}),
    ],
    "triage.tags": [
        Check("GET", lambda w: "/staff/tags", staff_only(OK)),
        Check("POST", lambda w: "/staff/tags", staff_only(done("/staff/tags")),
              data=lambda w: {"name": "Fred's tag"}),
    ],
    "triage.update_tag": [
        Check("POST", lambda w: "/staff/tags/999999", staff_only(NOT_FOUND),
              data=lambda w: {"name": "Fred's tag"}),
    ],
    "triage.delete_tag": [
        Check("POST", lambda w: "/staff/tags/999999/delete", staff_only(NOT_FOUND)),
    ],
    "triage.boards": [
        Check("GET", lambda w: "/admin/boards", admin_only(OK)),
        Check("POST", lambda w: "/admin/boards", admin_only(done("/admin/boards")),
              data=lambda w: {"name": "Fred's board", "visibility": "public"}),
    ],
    "triage.update_board": [
        Check("POST", lambda w: f"/admin/boards/{w.boards['staff'].id}",
              admin_only(done("/admin/boards")),
              data=lambda w: {"name": "Team board", "visibility": "public"}),
    ],
    "triage.move_board_position": [
        Check("POST", lambda w: f"/admin/boards/{w.boards['staff'].id}/move",
              admin_only(done("/admin/boards")), data=lambda w: {"direction": "up"}),
    ],
    "triage.export": [Check("GET", lambda w: "/staff/export", staff_only(OK))],
    "triage.export_csv": [
        Check("GET", lambda w: "/staff/export/ideas.csv", staff_only(OK)),
        Check("GET", lambda w: "/staff/export/comments.csv", staff_only(OK)),
        Check("GET", lambda w: "/staff/export/users.csv", staff_only(NOT_FOUND)),
    ],
    "triage.import_csv": [
        Check("GET", lambda w: "/admin/import", admin_only(OK)),
        Check("POST", lambda w: "/admin/import", admin_only(INVALID),
              data=lambda w: {"format": "generic"}, why="no file"),
    ],
    # --- webhooks (admins), and the incoming status hook (signed, no session) -------------
    "webhooks.index": [Check("GET", lambda w: "/admin/webhooks", admin_only(OK))],
    "webhooks.create": [
        Check("POST", lambda w: "/admin/webhooks", admin_only(Expect(200, writes=True)),
              data=lambda w: {"name": "Fred's hook", "url": "https://fred.example/hook",
                              "events": ["comment.created"]},
              why="answers the page with the new secret, shown once"),
        Check("POST", lambda w: "/admin/webhooks", admin_only(INVALID),
              data=lambda w: {"name": "Fred's hook", "url": "file:///etc/passwd",
                              "events": ["comment.created"]}),
    ],
    "webhooks.edit": [
        Check("GET", lambda w: "/admin/webhooks/999999", admin_only(NOT_FOUND)),
        Check("POST", lambda w: "/admin/webhooks/999999", admin_only(NOT_FOUND),
              data=lambda w: {"name": "Fred's hook", "url": "https://fred.example/hook",
                              "events": ["comment.created"]}),
    ],
    "webhooks.send_test": [
        Check("POST", lambda w: "/admin/webhooks/999999/test", admin_only(NOT_FOUND)),
    ],
    "webhooks.rotate_secret": [
        Check("POST", lambda w: "/admin/webhooks/999999/secret", admin_only(NOT_FOUND)),
    ],
    "webhooks.delete": [
        Check("POST", lambda w: "/admin/webhooks/999999/delete", admin_only(NOT_FOUND)),
    ],
    "webhooks.redeliver": [
        Check("POST", lambda w: "/admin/webhooks/deliveries/999999/redeliver",
              admin_only(NOT_FOUND)),
    ],
    "webhooks.create_status_hook": [
        Check("POST", lambda w: "/admin/status-hooks", admin_only(Expect(200, writes=True)),
              data=lambda w: {"name": "Fred's pipeline", "github_status": "shipped"},
              why="answers the page with the hook's address and secret, shown once"),
    ],
    "webhooks.update_status_hook": [
        Check("POST", lambda w: "/admin/status-hooks/999999", admin_only(NOT_FOUND),
              data=lambda w: {"name": "Fred's pipeline"}),
    ],
    "webhooks.rotate_status_hook_secret": [
        Check("POST", lambda w: "/admin/status-hooks/999999/secret", admin_only(NOT_FOUND)),
    ],
    "webhooks.delete_status_hook": [
        Check("POST", lambda w: "/admin/status-hooks/999999/delete", admin_only(NOT_FOUND)),
    ],
    "webhooks.receive_status": [
        Check("POST", lambda w: "/hooks/status/no-such-hook", everyone(NOT_FOUND),
              json=lambda w: {"idea": w.ideas["public"].id, "status": "shipped"},
              why="no session counts: only a hook's key and signature (tests/web/"
                  "test_status_hooks.py)"),
    ],
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}

# A refused write must leave every table unchanged on each database; what a GET answers is
# decided by the same code and rows on both, so the PostgreSQL run checks the writes only.
READS = pytest.mark.any_database("a GET: who may read it does not depend on the database")

CASES = [
    pytest.param(endpoint, check, persona, id=f"{endpoint}[{n}]-{check.method}-{persona}",
                 marks=[READS] if check.method == "GET" else [])
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

    with client_as(persona).open(url, method=check.method, **check.body(world)) as response:
        response.get_data()

    got = f"{response.status_code}"
    if response.status_code == 302:
        got += f" -> {response.location}"
    assert response.status_code == expect.status, f"{persona}: expected {expect}, got {got}"
    if expect.location:
        assert response.location.startswith(expect.location), f"{persona}: got {got}"
    if check.method == "GET" or not expect.writes:
        assert fingerprint() == before, f"{persona}: {check.method} {url} changed the database"
