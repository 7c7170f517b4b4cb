from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Comment, Idea, Subscription, SubscriptionLevel, Vote


def votes_of(idea_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Idea, idea_id).vote_count


def test_vote_and_unvote_without_javascript(client, auth, personas, make_idea, no_drift):
    idea = make_idea(author=personas["bob"])
    auth.login()
    response = client.post(f"/ideas/{idea.id}/vote", follow_redirects=True)
    assert "Your vote is counted." in response.text
    assert votes_of(idea.id) == 2
    client.post(f"/ideas/{idea.id}/unvote")
    assert votes_of(idea.id) == 1


def test_voting_twice_counts_once(client, auth, personas, make_idea, no_drift):
    idea = make_idea(author=personas["bob"])
    auth.login()
    client.post(f"/ideas/{idea.id}/vote")
    client.post(f"/ideas/{idea.id}/vote")
    assert votes_of(idea.id) == 2
    assert db.session.scalar(db.select(db.func.count(Vote.id))) == 2


def test_unvote_without_a_vote_changes_nothing(client, auth, personas, make_idea, no_drift):
    idea = make_idea(author=personas["bob"])
    auth.login()
    client.post(f"/ideas/{idea.id}/unvote")
    assert votes_of(idea.id) == 1


def test_withdrawing_a_fresh_vote_keeps_the_weight_of_old_votes(client, auth, personas,
                                                                make_idea, no_drift):
    """Found by the benchmark: a vote cast today outweighs votes of months ago beyond float
    precision, so subtracting it again must not reset the trending score to zero."""
    from datetime import timedelta

    from forum import checks
    from forum.db import utcnow

    idea = make_idea(author=personas["bob"])
    db.session.execute(db.update(Vote).values(created_at=utcnow() - timedelta(days=300)))
    assert checks.run(fix=True)  # the trending score now reflects the old vote
    db.session.commit()
    auth.login()
    client.post(f"/ideas/{idea.id}/vote")
    client.post(f"/ideas/{idea.id}/unvote")
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).trending_score > 0


def test_vote_in_place_answers_json(client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    auth.login()
    response = client.post(f"/ideas/{idea.id}/vote", headers={"Accept": "application/json"})
    assert response.json == {"voted": True, "votes": 2, "id": idea.id}
    response = client.post(f"/ideas/{idea.id}/unvote", headers={"Accept": "application/json"})
    assert response.json == {"voted": False, "votes": 1, "id": idea.id}


def test_voting_follows_for_status_changes_only(client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    auth.login()
    client.post(f"/ideas/{idea.id}/vote")
    sub = db.session.scalar(db.select(Subscription).where(
        Subscription.user_id == personas["anna"].id))
    assert sub.level == SubscriptionLevel.STATUS


def test_voting_is_closed_on_shipped_ideas(client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    services.change_status(idea, services.find_status("shipped"), personas["pam"])
    db.session.commit()
    auth.login()
    response = client.post(f"/ideas/{idea.id}/vote", follow_redirects=True)
    assert "Voting is closed" in response.text
    assert votes_of(idea.id) == 1
    api = client.post(f"/ideas/{idea.id}/vote", headers={"Accept": "application/json"})
    assert api.status_code == 409 and api.json["error"] == "conflict"


def test_list_shows_which_ideas_i_voted_for(client, auth, personas, make_idea):
    voted = make_idea("Voted one", author=personas["bob"])
    make_idea("Not voted", author=personas["bob"])
    auth.login()
    client.post(f"/ideas/{voted.id}/vote")
    page = client.get("/").text
    assert page.count('aria-pressed="true"') == 1


def test_comments_are_flat_newest_last_and_markdown(client, auth, personas, make_idea, no_drift):
    idea = make_idea(author=personas["bob"])
    auth.login()
    client.post(f"/ideas/{idea.id}/comments", data={"body": "First *comment*"})
    client.post(f"/ideas/{idea.id}/comments", data={"body": "Second comment"})
    page = client.get(f"/ideas/{idea.id}").text
    assert page.index("First <em>comment</em>") < page.index("Second comment")
    assert db.session.get(Idea, idea.id).comment_count == 2
    sub = db.session.scalar(db.select(Subscription).where(
        Subscription.user_id == personas["anna"].id))
    assert sub.level == SubscriptionLevel.ALL


def test_empty_comment_is_refused(client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    auth.login()
    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "   "})
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_internal_notes_are_staff_only(client, auth, personas, make_idea, no_drift):
    idea = make_idea(author=personas["bob"])
    auth.login("pam@example.com")
    client.post(f"/ideas/{idea.id}/comments", data={"body": "Big customer, 300 seats",
                                                    "internal": "1"})
    assert "Big customer" in client.get(f"/ideas/{idea.id}").text
    auth.logout()
    assert "Big customer" not in client.get(f"/ideas/{idea.id}").text
    auth.login("fred@example.com")
    client.post(f"/ideas/{idea.id}/comments", data={"body": "Fred's secret", "internal": "1"})
    note = db.session.scalar(db.select(Comment).where(Comment.body == "Fred's secret"))
    assert note is not None and note.is_internal is False  # Fred cannot hide from moderators
    assert db.session.get(Idea, idea.id).comment_count == 1


def test_follow_levels(client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    auth.login()
    response = client.post(f"/ideas/{idea.id}/follow", data={"level": "all"},
                           follow_redirects=True)
    assert "every comment" in response.text
    client.post(f"/ideas/{idea.id}/follow", data={"level": "none"})
    client.post(f"/ideas/{idea.id}/vote")
    sub = db.session.scalar(db.select(Subscription).where(
        Subscription.user_id == personas["anna"].id))
    assert sub.level == SubscriptionLevel.NONE  # voting again does not undo a chosen silence
    assert client.post(f"/ideas/{idea.id}/follow", data={"level": "loud"}).status_code == 400
