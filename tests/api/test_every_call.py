"""Who may call what, over every declared call, so a new call cannot forget its checks."""

import pytest

from forum.accounts import tokens
from forum.api import declared_calls
from forum.api.routing import Who
from forum.extensions import db

ENDPOINTS = declared_calls()

CALLS = [pytest.param(ep, id=f"{ep.method} {ep.rule}") for ep in ENDPOINTS]
VALID_BODIES = {
    "create_idea": {"title": "A valid title", "body": ""},
    "patch_idea": {"title": "A valid title"},
    "vote_on_behalf": {"email": "someone@example.com"},
    "change_status": {"status": "planned"},
    "merge": {"into": 1},
    "post_comment": {"body": "A valid comment"},
}


def _send(client, ep, idea_id, headers):
    path = ep.rule.replace("<int:idea_id>", str(idea_id))
    body = VALID_BODIES.get(ep.name, {}) if ep.method != "GET" else None
    return client.open(path, method=ep.method, headers=headers, json=body)


@pytest.mark.parametrize("ep", CALLS)
def test_revoked_tokens_get_401_and_suspended_accounts_403(client, personas, make_idea, ep):
    idea = make_idea()
    revoked = tokens.create_token(personas["pam"], "old")
    tokens.revoke_token(personas["pam"], revoked.token.id)
    banned = tokens.create_token(personas["fred"], "fred's")
    personas["fred"].is_banned = True
    db.session.commit()
    response = _send(client, ep, idea.id, {"Authorization": f"Bearer {revoked.secret}"})
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    response = _send(client, ep, idea.id, {"Authorization": f"Bearer {banned.secret}"})
    assert response.status_code == 403 and response.json["error"] == "forbidden"


@pytest.mark.parametrize("ep", [c for c in CALLS if c.values[0].who is not Who.ANYONE])
def test_calls_for_people_need_an_identity(client, make_idea, ep):
    response = _send(client, ep, make_idea().id, {})
    assert response.status_code == 401 and response.json["error"] == "unauthorized"


@pytest.mark.parametrize("ep", [c for c in CALLS if c.values[0].who is Who.STAFF])
def test_staff_calls_refuse_customers(client, as_, make_idea, ep):
    response = _send(client, ep, make_idea().id, as_["anna"])
    assert response.status_code == 403 and response.json["error"] == "forbidden"


@pytest.mark.parametrize("ep", [c for c in CALLS if "<int:idea_id>" in c.values[0].rule])
def test_unknown_ideas_are_404(client, as_, ep):
    response = _send(client, ep, 999_999, as_["pam"])
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_every_call_with_a_body_is_in_this_file():
    assert {ep.name for ep in ENDPOINTS if ep.body is not None} == set(VALID_BODIES)
