from forum.accounts.models import User
from forum.extensions import db
from tests.conftest import PASSWORD


def test_sign_up_creates_an_account_and_signs_in(client):
    response = client.post("/signup", data={"name": "Marie Dubois", "email": "Marie@Example.com",
                                            "password": "long enough pw"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Welcome, Marie Dubois" in response.text
    user = db.session.scalar(db.select(User).where(User.email == "marie@example.com"))
    assert user is not None and user.password_hash != "long enough pw"
    assert user.check_password("long enough pw")


def test_sign_up_refuses_bad_input_and_keeps_what_was_typed(client):
    response = client.post("/signup", data={"name": "Marie", "email": "not-an-email",
                                            "password": "short"})
    assert response.status_code == 422
    assert 'value="Marie"' in response.text
    assert "Invalid email address" in response.text
    assert "at least 8 characters" in response.text
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_sign_up_with_a_taken_email_says_so(client, make_user):
    make_user("Anna", email="anna@example.com")
    response = client.post("/signup", data={"name": "Other", "email": "ANNA@example.com",
                                            "password": "long enough pw"})
    assert response.status_code == 422
    assert "already exists" in response.text


def test_sign_in_and_out(client, auth, personas):
    response = auth.login()
    assert response.status_code == 302
    assert "Sign out" in client.get("/").text
    assert client.get("/me").status_code == 302
    auth.logout()
    page = client.get("/").text
    assert "Sign out" not in page and "Sign in" in page
    assert "/signin" in client.get("/me").headers["Location"]


def test_wrong_password_is_refused_without_saying_which_part(client, auth, personas):
    response = auth.login(password="wrong password")
    assert response.status_code == 422
    assert "do not match an account" in response.text
    unknown = auth.login(email="nobody@example.com")
    assert "do not match an account" in unknown.text


def test_remember_me_sets_a_lasting_cookie(client, personas):
    response = client.post("/signin", data={"email": "anna@example.com", "password": PASSWORD,
                                            "remember": "y"})
    assert any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_sign_in_redirects_only_to_this_site(client, personas):
    ok = client.post("/signin?next=/ideas/new", data={"email": "anna@example.com",
                                                       "password": PASSWORD})
    assert ok.headers["Location"].endswith("/ideas/new")
    client.post("/signout")
    evil = client.post("/signin?next=//evil.example/steal", data={"email": "anna@example.com",
                                                                   "password": PASSWORD})
    assert "evil.example" not in evil.headers["Location"]


def test_sign_in_starts_a_fresh_session(client, personas):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/signin", data={"email": "anna@example.com", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_banned_person_cannot_sign_in(client, auth, personas):
    personas["fred"].is_banned = True
    db.session.commit()
    response = auth.login(email="fred@example.com")
    assert response.status_code == 422
    assert "suspended" in response.text


def test_profile_lists_posted_and_voted_ideas(client, auth, personas, make_idea):
    mine = make_idea("Export to CSV", author=personas["anna"])
    theirs = make_idea("Keyboard shortcuts", author=personas["bob"])
    auth.login()
    client.post(f"/ideas/{theirs.id}/vote")
    page = client.get(f"/people/{personas['anna'].id}").text
    assert "Export to CSV" in page and "Keyboard shortcuts" in page
    auth.logout()
    public = client.get(f"/people/{personas['anna'].id}").text
    assert "Export to CSV" in public
    assert "Keyboard shortcuts" not in public  # what someone voted for is private
    assert mine.id
