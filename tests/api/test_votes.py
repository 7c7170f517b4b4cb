from forum import checks
from forum.accounts.models import Role, User
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Idea, Vote, VoteSource


def _find_status(slug):
    return services.find_status(slug)


def test_vote_and_unvote_are_idempotent(client, as_, make_idea, no_drift):
    idea = make_idea()
    url = f"/api/v1/ideas/{idea.id}/vote"
    first = client.post(url, headers=as_["anna"])
    assert first.status_code == 200 and first.json == {"voted": True, "votes": 2}
    again = client.post(url, headers=as_["anna"])
    assert again.json == {"voted": True, "votes": 2}
    vote = db.session.scalar(
        db.select(Vote).where(Vote.idea_id == idea.id).order_by(Vote.id.desc()))
    assert vote.source == VoteSource.API
    gone = client.delete(url, headers=as_["anna"])
    assert gone.status_code == 200 and gone.json == {"voted": False, "votes": 1}
    assert client.delete(url, headers=as_["anna"]).json == {"voted": False, "votes": 1}


def test_voting_on_a_merged_idea_votes_on_its_canonical_idea(client, as_, make_idea, no_drift):
    canonical, duplicate = make_idea("Dark mode"), make_idea("Night theme")
    duplicate.merged_into_id = canonical.id
    # What the merge service will do to the counts: recompute the canonical idea's figures.
    checks.run(fix=True)
    db.session.commit()
    response = client.post(f"/api/v1/ideas/{duplicate.id}/vote", headers=as_["anna"])
    assert response.json == {"voted": True, "votes": 3}
    assert db.session.scalar(db.select(Vote.idea_id).where(
        Vote.user_id == db.session.scalar(db.select(User.id).where(User.name == "Anna")))
    ) == canonical.id
    assert client.get(f"/api/v1/ideas/{canonical.id}", headers=as_["anna"]).json["voted"] is True
    undo = client.delete(f"/api/v1/ideas/{duplicate.id}/vote", headers=as_["anna"])
    assert undo.json == {"voted": False, "votes": 2}


def test_voting_needs_identity_a_known_idea_and_open_voting(client, as_, personas, make_idea):
    idea = make_idea()
    assert client.post(f"/api/v1/ideas/{idea.id}/vote").status_code == 401
    assert client.delete(f"/api/v1/ideas/{idea.id}/vote").status_code == 401
    assert client.post("/api/v1/ideas/999999/vote", headers=as_["anna"]).status_code == 404
    services.change_status(idea, _find_status("shipped"), personas["pam"])
    db.session.commit()
    closed = client.post(f"/api/v1/ideas/{idea.id}/vote", headers=as_["anna"])
    assert closed.status_code == 409 and closed.json["error"] == "conflict"
    personas["fred"].is_banned = True
    db.session.commit()
    other = make_idea("Another idea")
    assert client.post(f"/api/v1/ideas/{other.id}/vote", headers=as_["fred"]).status_code == 403


def test_staff_vote_on_behalf_of_a_new_customer(client, as_, personas, make_idea, no_drift):
    idea = make_idea()
    url = f"/api/v1/ideas/{idea.id}/votes"
    response = client.post(url, headers=as_["pam"],
                           json={"email": "Carla@Customer.example", "source": "sales"})
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/ideas/{idea.id}/voters")
    assert response.json["email"] == "carla@customer.example"
    assert response.json["source"] == "sales" and response.json["name"] == "carla"
    carla = db.session.scalar(db.select(User).where(User.email == "carla@customer.example"))
    assert carla.role == Role.CUSTOMER and carla.password_hash is None
    vote = db.session.scalar(db.select(Vote).where(Vote.user_id == carla.id))
    assert vote.added_by_id == personas["pam"].id and vote.source == VoteSource.SALES
    assert db.session.get(Idea, idea.id).vote_count == 2
    again = client.post(url, headers=as_["pam"], json={"email": "carla@customer.example"})
    assert again.status_code == 200 and again.json["source"] == "sales"
    assert db.session.get(Idea, idea.id).vote_count == 2


def test_vote_on_behalf_of_an_existing_customer_defaults_to_support(client, as_, personas,
                                                                     make_idea):
    idea = make_idea()
    response = client.post(f"/api/v1/ideas/{idea.id}/votes", headers=as_["ada"],
                           json={"email": "bob@example.com"})
    assert response.status_code == 201 and response.json["name"] == "Bob"
    assert response.json["source"] == "support"


def test_vote_on_behalf_is_for_staff_with_valid_fields(client, as_, make_idea):
    idea = make_idea()
    url = f"/api/v1/ideas/{idea.id}/votes"
    assert client.post(url, json={"email": "x@example.com"}).status_code == 401
    assert client.post(url, headers=as_["fred"], json={"email": "x@example.com"}).status_code \
        == 403
    bad = client.post(url, headers=as_["pam"], json={"email": "not an email", "source": "web"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"source"}
    bad = client.post(url, headers=as_["pam"], json={"email": "not an email"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"email"}
    missing = client.post("/api/v1/ideas/999999/votes", headers=as_["pam"],
                          json={"email": "x@example.com"})
    assert missing.status_code == 404
    assert db.session.scalar(db.select(User).where(User.email == "x@example.com")) is None


def test_voters_are_listed_for_staff_only(client, as_, personas, make_idea):
    idea = make_idea(author=personas["anna"])
    duplicate = make_idea("Night theme", author=personas["bob"])
    duplicate.merged_into_id = idea.id
    checks.run(fix=True)
    db.session.commit()
    response = client.get(f"/api/v1/ideas/{idea.id}/voters", headers=as_["pam"])
    assert response.status_code == 200
    assert [(v["email"], v["source"]) for v in response.json] == [
        ("anna@example.com", "web"), ("bob@example.com", "web")]
    assert set(response.json[0]) == {"email", "name", "source", "voted_at"}
    assert client.get(f"/api/v1/ideas/{idea.id}/voters").status_code == 401
    assert client.get(f"/api/v1/ideas/{idea.id}/voters", headers=as_["anna"]).status_code == 403
    assert client.get("/api/v1/ideas/999999/voters", headers=as_["pam"]).status_code == 404
