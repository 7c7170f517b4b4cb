"""Sessions and accounts: CSRF on every state-changing route, cookie flags, a new session on
sign-in and sign-up, modern password hashing, rate-limited sign-in and sign-up, and answers
that do not tell which addresses have accounts."""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.security import check_password_hash

from forum import create_app
from forum.accounts.models import User
from forum.extensions import db
from tests.conftest import PASSWORD, IsolatedClient
from tests.hostile import fingerprint
from tests.security.conftest import rules_with, sample_path, sign_in_as

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints that may take a write without the session's CSRF token, each with the reason.
# Only requests that cannot ride on a victim's browser session belong here, e.g. a future
# RFC 8058 one-click unsubscribe (a signed token in the URL, posted by the mail client) or API
# calls authenticated by a bearer token. Keep this list explicit and short.
CSRF_EXEMPT: dict[str, str] = {
    "notifications.unsubscribe": "RFC 8058 one-click unsubscribe: mail clients post it without "
                                 "a session; the signed token in the URL is the authentication",
    "webhooks.receive_status": "incoming status hook: other tools post without a session; the "
                               "HMAC-SHA256 signature with the hook's secret (and a timestamp "
                               "within WEBHOOK_TOLERANCE_SECONDS) is the authentication, and "
                               "the session is never consulted (tests/web/test_status_hooks.py)",
    **dict.fromkeys(
        [f"api.{name}" for name in ("create_idea", "patch_idea", "vote", "unvote",
                                    "vote_on_behalf", "change_status", "merge", "unmerge",
                                    "post_comment")],
        "the JSON API: a bearer token names the caller (no cookie to ride on); session writes "
        "must carry the X-CSRFToken header instead (forum/api/auth.py, tested below)"),
}


@pytest.fixture
def make_app(app_config):
    """Another app on the same database, with production settings switched back on."""

    def make(**overrides):
        app = create_app({**app_config, **overrides})
        app.test_client_class = IsolatedClient
        return app

    return make


# --- CSRF ----------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["anonymous", "staff"])
def test_every_state_changing_route_needs_a_csrf_token(app, world, make_app, persona):
    strict = make_app(WTF_CSRF_ENABLED=True)
    checked = []
    for rule in rules_with(strict, WRITES):
        if rule.endpoint in CSRF_EXEMPT:
            continue
        path = sample_path(rule, world)
        for method in sorted(rule.methods & WRITES):
            client = sign_in_as(strict.test_client(), world.people[persona])
            before = fingerprint()
            response = client.open(path, method=method, data={
                "title": "Forged", "body": "Forged", "level": "none", "locale": "fr",
                "email": "anna@example.com", "password": PASSWORD, "name": "Forged",
                "board": world.boards["public"].id, "csrf_token": "forged"})
            assert response.status_code == 400, f"{method} {path}: {response.status_code}"
            assert "This form had expired" in response.text, f"{method} {path}"
            assert fingerprint() == before, f"{method} {path} changed data without a token"
            checked.append(path)
    assert len(checked) >= 10


def test_the_exemptions_are_real_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(CSRF_EXEMPT) <= endpoints


def test_session_api_writes_need_the_csrf_header(app, world, make_app):
    """The API is exempt from the form field, not from CSRF: a write that rides on the session
    cookie must carry the X-CSRFToken header; only a bearer token goes without."""
    from forum.accounts import tokens

    strict = make_app(WTF_CSRF_ENABLED=True)
    api_writes = [rule for rule in rules_with(strict, WRITES) if rule.endpoint.startswith("api.")]
    assert {rule.endpoint for rule in api_writes} <= set(CSRF_EXEMPT)
    for rule in api_writes:
        path = sample_path(rule, world)
        for method in sorted(rule.methods & WRITES):
            client = sign_in_as(strict.test_client(), world.people["staff"])
            before = fingerprint()
            response = client.open(path, method=method, json={"title": "Forged", "body": "x"},
                                   headers={"X-CSRFToken": "forged"})
            assert response.status_code == 400, f"{method} {path}: {response.status_code}"
            assert fingerprint() == before, f"{method} {path} changed data without a token"

    vote = f"/api/v1/ideas/{world.ideas['public'].id}/vote"
    staff = sign_in_as(strict.test_client(), world.people["staff"])
    before = fingerprint()
    assert staff.post(vote).status_code == 400 and fingerprint() == before
    page = staff.get("/ideas/new").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert staff.post(vote, headers={"X-CSRFToken": token}).json == {"voted": True, "votes": 2}
    # A bearer token is the whole identity: no cookie, so nothing for another site to forge.
    secret = tokens.create_token(world.people["other"], "script").secret
    db.session.commit()
    response = strict.test_client().post(vote, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.json["votes"] == 3


def test_one_click_unsubscribe_needs_a_real_token(world, make_app):
    """Exempt from CSRF because the signed token is the authentication: a forged one (here
    really signed, but for another purpose) changes nothing."""
    from forum import tokens

    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        token = tokens.make("satisfaction", {"u": world.people["customer"].id,
                                             "i": world.ideas["public"].id})
    before = fingerprint()
    for path in (f"/unsubscribe/{token}", "/unsubscribe/forged"):
        response = strict.test_client().post(path, data={"scope": "all"})
        assert response.status_code == 400, path
    assert fingerprint() == before


def test_a_token_from_another_session_is_refused(app, world, make_app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    fred = sign_in_as(strict.test_client(), world.people["other"])
    page = fred.get("/ideas/new").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    anna = sign_in_as(strict.test_client(), world.people["customer"])
    idea = world.ideas["public"]
    response = anna.post(f"/ideas/{idea.id}/follow", data={"level": "none", "csrf_token": token})
    assert response.status_code == 400
    # ...while Fred's own token works for Fred: the check is not simply refusing everything.
    response = fred.post(f"/ideas/{idea.id}/follow", data={"level": "none", "csrf_token": token})
    assert response.status_code == 302


# --- cookies -------------------------------------------------------------------------------

def _cookie_flags(response, name: str) -> set[str]:
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]} | {
        part.strip().lower() for part in header.split(";")[1:] if part.strip().lower()
        .startswith("samesite")}


@pytest.mark.parametrize("base_url", ["https://feedback.example.com", "http://127.0.0.1:5000"])
def test_cookies_are_httponly_samesite_and_secure_over_https(world, make_app, base_url):
    app = make_app(BASE_URL=base_url)
    client = app.test_client()
    response = client.post("/signin", data={"email": "anna@example.com", "password": PASSWORD,
                                            "remember": "y"})
    assert response.status_code == 302
    language = client.post("/language", data={"locale": "it"})
    https = base_url.startswith("https")
    for name, source in [("session", response), ("remember_token", response),
                         ("locale", language)]:
        flags = _cookie_flags(source, name)
        assert "httponly" in flags and "samesite=lax" in flags, (name, flags)
        assert ("secure" in flags) is https, (name, flags)
    if https:
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


# --- session fixation ----------------------------------------------------------------------

def _plant(client) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by Fred"


def _session_keys(client) -> set[str]:
    with client.session_transaction() as session:
        return set(session)


def test_sign_in_starts_a_new_session(world, client):
    _plant(client)
    response = client.post("/signin", data={"email": "anna@example.com", "password": PASSWORD})
    assert response.status_code == 302
    keys = _session_keys(client)
    assert "planted" not in keys and "_user_id" in keys


def test_sign_up_starts_a_new_session(world, client):
    _plant(client)
    response = client.post("/signup", data={"name": "Nina", "email": "nina@example.com",
                                            "password": PASSWORD})
    assert response.status_code == 302
    keys = _session_keys(client)
    assert "planted" not in keys and "_user_id" in keys


def test_sign_out_forgets_the_person(world, client):
    client.post("/signin", data={"email": "anna@example.com", "password": PASSWORD})
    client.post("/signout")
    assert "_user_id" not in _session_keys(client)
    assert client.get("/me").status_code == 302


# --- passwords -----------------------------------------------------------------------------

def test_passwords_are_hashed_with_scrypt_at_full_cost_by_default(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    user = User(email="x@example.com", name="X")
    user.set_password(PASSWORD, app.config["PASSWORD_HASH_METHOD"])
    method, salt, _digest = user.password_hash.split("$")
    # werkzeug's scrypt: N=2**15, r=8, p=1 and a 16-character random salt.
    assert method == "scrypt:32768:8:1" and len(salt) >= 16
    assert PASSWORD not in user.password_hash and check_password_hash(user.password_hash,
                                                                      PASSWORD)


def test_stored_hashes_are_salted(world):
    hashes = db.session.scalars(db.select(User.password_hash)).all()
    assert len(hashes) == len(set(hashes)) >= 5  # same password, different hashes


# --- rate limits ---------------------------------------------------------------------------

@pytest.fixture
def limited(make_app):
    return make_app(RATELIMIT_ENABLED=True, SIGNIN_LIMIT_PER_ADDRESS="6 per minute",
                    SIGNIN_LIMIT_PER_ACCOUNT="3 per minute",
                    SIGNUP_LIMIT_PER_ADDRESS="3 per minute")


def _sign_in(app, email: str, password: str, address: str):
    client = app.test_client()
    return client.post("/signin", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_guessing_one_account_from_many_addresses_is_stopped(world, limited):
    statuses = [_sign_in(limited, "anna@example.com", f"guess {n}", f"10.0.0.{n}").status_code
                for n in range(4)]
    assert statuses == [422, 422, 422, 429]
    # Even the right password waits now; the account is safe, and other accounts are not hit.
    assert _sign_in(limited, "anna@example.com", PASSWORD, "10.0.1.1").status_code == 429
    assert _sign_in(limited, " ANNA@example.com ", PASSWORD, "10.0.1.2").status_code == 429
    assert _sign_in(limited, "bob@example.com", PASSWORD, "10.0.1.3").status_code == 302


def test_guessing_many_accounts_from_one_address_is_stopped(world, limited):
    statuses = [_sign_in(limited, f"person{n}@example.com", "guess", "10.0.0.9").status_code
                for n in range(7)]
    assert statuses == [422] * 6 + [429]
    assert _sign_in(limited, "bob@example.com", PASSWORD, "10.0.0.10").status_code == 302


def test_successful_sign_ins_do_not_count(world, limited):
    for _ in range(8):
        assert _sign_in(limited, "anna@example.com", PASSWORD, "10.0.0.11").status_code == 302


def test_rate_limited_answers_are_clear_pages_with_retry_after(world, limited):
    for _ in range(3):
        _sign_in(limited, "anna@example.com", "guess", "10.0.0.12")
    response = _sign_in(limited, "anna@example.com", "guess", "10.0.0.12")
    assert response.status_code == 429
    assert "Slow down a little" in response.text and int(response.headers["Retry-After"]) > 0
    client = limited.test_client()
    response = client.post("/signin", data={"email": "anna@example.com", "password": "guess"},
                           headers={"Accept": "application/json"},
                           environ_base={"REMOTE_ADDR": "10.0.0.12"})
    assert response.status_code == 429 and response.json["error"] == "rate_limited"


def test_sign_up_is_rate_limited_per_address(world, limited):
    client = limited.test_client()
    statuses = [client.post("/signup", data={"name": "Probe", "email": f"probe{n}@example.com",
                                             "password": "short"},
                            environ_base={"REMOTE_ADDR": "10.0.0.13"}).status_code
                for n in range(4)]
    assert statuses == [422, 422, 422, 429]
    # Only refused sign-ups count: a whole team signing up from one office gets through.
    office = limited.test_client()
    for n in range(5):
        response = office.post("/signup", data={"name": "Team", "email": f"team{n}@example.com",
                                                "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "10.0.0.14"})
        assert response.status_code == 302
        office.post("/signout", environ_base={"REMOTE_ADDR": "10.0.0.14"})


# --- account enumeration -------------------------------------------------------------------

def test_sign_in_answers_the_same_for_unknown_addresses_and_wrong_passwords(world, client):
    known = client.post("/signin", data={"email": "anna@example.com", "password": "nope nope"})
    unknown = client.post("/signin", data={"email": "nobody@example.com",
                                           "password": "nope nope"})
    assert known.status_code == unknown.status_code == 422
    assert known.text.replace("anna@", "X@") == unknown.text.replace("nobody@", "X@")


def test_sign_in_costs_one_password_hash_for_known_and_unknown_addresses(world, app,
                                                                         monkeypatch):
    """The same timing class: both paths run scrypt exactly once."""
    from forum.accounts import services

    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    for email in ("anna@example.com", "nobody@example.com"):
        calls.clear()
        assert services.authenticate(email, "wrong password") is None
        assert len(calls) == 1, email


def test_sign_up_with_a_taken_address_says_so_and_creates_nothing(world, client):
    before = fingerprint()
    response = client.post("/signup", data={"name": "Fred again", "email": "ANNA@example.com",
                                            "password": PASSWORD})
    assert response.status_code == 422
    assert "An account with that email already exists." in response.text
    assert fingerprint() == before


@pytest.mark.parametrize("proxies", [0, 1])
def test_forwarded_addresses_count_only_behind_a_trusted_proxy(world, make_app, proxies):
    app = make_app(RATELIMIT_ENABLED=True, SIGNIN_LIMIT_PER_ADDRESS="2 per minute",
                   TRUSTED_PROXIES=proxies)

    def attempt(email: str, forwarded: str) -> int:
        return app.test_client().post(
            "/signin", data={"email": email, "password": "guess"},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code

    statuses = [attempt(f"p{n}@example.com", f"203.0.113.{n}") for n in range(3)]
    if proxies:
        # Three visitors behind the proxy: each has their own allowance.
        assert statuses == [422, 422, 422]
    else:
        # Nobody vouches for the header: a client cannot dodge the limit by forging it.
        assert statuses == [422, 422, 429]
