"""An engineer creates an API token in the browser, uses it from a script, then revokes it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from playwright.sync_api import expect

from forum.accounts import services as accounts
from forum.accounts.models import Role
from forum.extensions import db


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        assert json.load(error)["error"] == "unauthorized"
        return error.code


def test_create_use_and_revoke_a_token(live_app, live_server, page):
    with live_app.app_context():
        accounts.register(email="eng@example.com", name="Eve", password="eve password 1",
                          role=Role.STAFF)
        db.session.commit()
    page.goto(live_server.url + "/signin")
    page.get_by_label("Email").fill("eng@example.com")
    page.get_by_label("Password").fill("eve password 1")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Account").click()
    page.get_by_label("What is it for?").fill("Release pipeline")
    page.get_by_role("button", name="Create a token").click()
    secret = page.locator("[data-new-token]").inner_text()
    assert secret.startswith("fbk_")
    expect(page.get_by_role("cell", name="Release pipeline", exact=True)).to_be_visible()
    assert _get(live_server.url + "/api/v1/statuses", secret) == 200

    page.get_by_role("link", name="Account").click()
    expect(page.locator("[data-new-token]")).to_have_count(0)
    page.get_by_role("button", name="Revoke “Release pipeline”").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    assert _get(live_server.url + "/api/v1/statuses", secret) == 401

    page.get_by_role("contentinfo").get_by_role("link", name="API").click()
    expect(page.get_by_role("heading", name="The JSON API")).to_be_visible()
