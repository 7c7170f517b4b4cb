import hashlib
import re

from forum.accounts import tokens
from forum.accounts.models import ApiToken
from forum.extensions import db
from tests.conftest import PASSWORD


def _stored(secret: str) -> ApiToken | None:
    return db.session.scalar(db.select(ApiToken).where(
        ApiToken.token_hash == hashlib.sha256(secret.encode()).hexdigest()))


def test_create_token_command_prints_a_working_token_stored_hashed(runner, client, personas):
    result = runner.invoke(args=["forum", "create-token", "pam@example.com", "--name", "CI"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("fbk_") and len(secret) > 40
    token = _stored(secret)
    assert token is not None and token.name == "CI" and token.owner.email == "pam@example.com"
    row = db.session.execute(db.text("SELECT * FROM api_tokens")).one()
    assert secret not in [str(value) for value in row]
    response = client.get("/api/v1/boards", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_create_token_command_refuses_unknown_accounts(runner):
    result = runner.invoke(args=["forum", "create-token", "nobody@example.com"])
    assert result.exit_code != 0 and "No account" in result.output


def test_unknown_malformed_and_revoked_tokens_answer_401(client, personas, make_idea):
    idea = make_idea()
    for header in ("Bearer fbk_not-a-real-token", "Bearer nonsense", "Basic YW5uYTpwdw==",
                   "Bearer", ""):
        response = client.get(f"/api/v1/ideas/{idea.id}", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json["error"] == "unauthorized" and response.json["message"]
    new = tokens.create_token(personas["anna"], "laptop")
    db.session.commit()
    headers = {"Authorization": f"Bearer {new.secret}"}
    assert client.post(f"/api/v1/ideas/{idea.id}/vote", headers=headers).status_code == 200
    tokens.revoke_token(personas["anna"], new.token.id)
    db.session.commit()
    response = client.post(f"/api/v1/ideas/{idea.id}/vote", headers=headers)
    assert response.status_code == 401 and "revoked" in response.json["message"]


def test_banned_accounts_answer_403_even_for_reading(client, as_, personas):
    personas["fred"].is_banned = True
    db.session.commit()
    response = client.get("/api/v1/ideas", headers=as_["fred"])
    assert response.status_code == 403 and response.json["error"] == "forbidden"


def test_last_used_time_is_recorded(client, personas):
    new = tokens.create_token(personas["anna"], "laptop")
    db.session.commit()
    assert new.token.last_used_at is None
    client.get("/api/v1/boards", headers={"Authorization": f"Bearer {new.secret}"})
    db.session.expire_all()
    assert db.session.get(ApiToken, new.token.id).last_used_at is not None


def test_a_token_names_the_caller_even_beside_a_session(client, auth, personas, as_):
    auth.login("anna@example.com", PASSWORD)
    response = client.post("/api/v1/ideas", headers=as_["bob"],
                           json={"title": "Bob's idea", "body": ""})
    assert response.status_code == 201 and response.json["author"]["name"] == "Bob"


def test_account_page_creates_shows_once_and_revokes_tokens(client, auth, personas):
    assert client.get("/account").status_code == 302
    auth.login("anna@example.com", PASSWORD)
    page = client.get("/")
    assert 'href="/account"' in page.text and 'href="/api/v1/docs"' in page.text
    assert "No tokens yet" in client.get("/account").text
    created = client.post("/account/tokens", data={"name": "Zapier"})
    assert created.status_code == 200
    secret = re.search(r"data-new-token>(fbk_[\w-]+)<", created.text).group(1)
    assert "Zapier" in created.text
    listing = client.get("/account").text
    assert "Zapier" in listing and secret not in listing
    assert client.get("/api/v1/boards", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    token = _stored(secret)
    revoked = client.post(f"/account/tokens/{token.id}/revoke", follow_redirects=True)
    assert revoked.status_code == 200 and "Revoked" in revoked.text
    assert client.get("/api/v1/boards", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401


def test_account_page_refuses_bad_names_and_others_tokens(client, auth, personas):
    bobs = tokens.create_token(personas["bob"], "Bob's script")
    db.session.commit()
    auth.login("anna@example.com", PASSWORD)
    assert client.post("/account/tokens", data={"name": ""}).status_code == 422
    assert client.post("/account/tokens", data={"name": "x" * 81}).status_code == 422
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 1
    assert client.post(f"/account/tokens/{bobs.token.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, bobs.token.id).revoked_at is None
