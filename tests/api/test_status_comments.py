from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Comment, Idea, StatusChange


def test_staff_move_an_idea_and_hear_how_many_were_told(client, as_, make_idea, no_drift):
    idea = make_idea()
    response = client.post(f"/api/v1/ideas/{idea.id}/status", headers=as_["pam"],
                           json={"status": "shipped", "note": "In 2.4"})
    assert response.status_code == 200
    assert response.json["idea"]["status"] == "shipped"
    assert response.json["idea"]["id"] == idea.id
    change = db.session.scalar(db.select(StatusChange))
    assert response.json["notified"] == change.notified_count
    assert change.via == "api" and change.note == "In 2.4"
    history = client.get(f"/api/v1/ideas/{idea.id}/history").json
    assert history == [{"from": "open", "to": "shipped", "note": "In 2.4",
                        "by": {"id": change.changed_by_id, "name": "Pam"},
                        "at": history[0]["at"]}]


def test_status_change_refusals(client, as_, make_idea):
    idea = make_idea()
    url = f"/api/v1/ideas/{idea.id}/status"
    assert client.post(url, json={"status": "planned"}).status_code == 401
    assert client.post(url, headers=as_["anna"], json={"status": "planned"}).status_code == 403
    needs_note = client.post(url, headers=as_["pam"], json={"status": "declined"})
    assert needs_note.status_code == 422 and set(needs_note.json["fields"]) == {"note"}
    unknown = client.post(url, headers=as_["pam"], json={"status": "nope"})
    assert unknown.status_code == 422 and set(unknown.json["fields"]) == {"status"}
    empty = client.post(url, headers=as_["pam"], json={"note": 3})
    assert empty.status_code == 422 and set(empty.json["fields"]) == {"status", "note"}
    assert client.post("/api/v1/ideas/999999/status", headers=as_["pam"],
                       json={"status": "planned"}).status_code == 404
    assert client.post(url, headers=as_["pam"], json={"status": "shipped"}).status_code == 200
    forbidden_move = client.post(url, headers=as_["pam"],
                                 json={"status": "declined", "note": "No."})
    assert forbidden_move.status_code == 409 and forbidden_move.json["error"] == "conflict"
    assert db.session.get(Idea, idea.id).status.slug == "shipped"


def test_history_needs_a_known_idea(client):
    assert client.get("/api/v1/ideas/999999/history").status_code == 404


def test_comments_read_and_write(client, as_, make_idea, no_drift):
    idea = make_idea()
    posted = client.post(f"/api/v1/ideas/{idea.id}/comments", headers=as_["anna"],
                         json={"body": "Yes *please*"})
    assert posted.status_code == 201
    assert posted.headers["Location"].endswith(f"/api/v1/ideas/{idea.id}/comments")
    assert posted.json["body_html"] == "<p>Yes <em>please</em></p>\n"
    assert posted.json["internal"] is False and posted.json["author"]["name"] == "Anna"
    note = client.post(f"/api/v1/ideas/{idea.id}/comments", headers=as_["pam"],
                       json={"body": "Customer X asked too", "internal": True})
    assert note.status_code == 201 and note.json["internal"] is True
    public = client.get(f"/api/v1/ideas/{idea.id}/comments").json
    assert [c["body"] for c in public] == ["Yes *please*"]
    staff = client.get(f"/api/v1/ideas/{idea.id}/comments", headers=as_["pam"]).json
    assert [c["body"] for c in staff] == ["Yes *please*", "Customer X asked too"]
    assert client.get(f"/api/v1/ideas/{idea.id}", headers=as_["anna"]).json["comments"] == 1


def test_comment_refusals(client, as_, make_idea):
    idea = make_idea()
    url = f"/api/v1/ideas/{idea.id}/comments"
    assert client.post(url, json={"body": "Hi"}).status_code == 401
    internal = client.post(url, headers=as_["fred"], json={"body": "Psst", "internal": True})
    assert internal.status_code == 403
    bad = client.post(url, headers=as_["anna"], json={"body": "", "internal": "maybe"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"body", "internal"}
    blank = client.post(url, headers=as_["anna"], json={"body": "   "})
    assert blank.status_code == 422 and set(blank.json["fields"]) == {"body"}
    assert client.post("/api/v1/ideas/999999/comments", headers=as_["anna"],
                       json={"body": "Hi"}).status_code == 404
    assert client.get("/api/v1/ideas/999999/comments").status_code == 404
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_merge_and_unmerge(client, as_, make_idea, personas, no_drift):
    a, b = make_idea("Dark mode"), make_idea("Night theme")
    merge = f"/api/v1/ideas/{b.id}/merge"
    assert client.post(merge, json={"into": a.id}).status_code == 401
    assert client.post(merge, headers=as_["anna"], json={"into": a.id}).status_code == 403
    assert client.post("/api/v1/ideas/999999/merge", headers=as_["pam"],
                       json={"into": a.id}).status_code == 404
    bad = client.post(merge, headers=as_["pam"], json={"into": "A"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"into"}
    unknown = client.post(merge, headers=as_["pam"], json={"into": 999999})
    assert unknown.status_code == 422 and set(unknown.json["fields"]) == {"into"}
    assert client.post(f"/api/v1/ideas/{b.id}/unmerge", headers=as_["anna"]).status_code == 403
    assert client.post(f"/api/v1/ideas/{b.id}/unmerge").status_code == 401
    assert client.post("/api/v1/ideas/999999/unmerge", headers=as_["pam"]).status_code == 404
    assert db.session.get(Idea, b.id).merged_into_id is None
    # Two different authors: the canonical idea counts both voters.
    merged = client.post(merge, headers=as_["pam"], json={"into": a.id})
    assert merged.status_code == 200
    assert merged.json["id"] == a.id and merged.json["merged"] == [b.id]
    assert merged.json["votes"] == 2
    assert client.get(f"/api/v1/ideas/{b.id}").json["merged_into"] == a.id
    again = client.post(merge, headers=as_["pam"], json={"into": a.id})
    assert again.status_code == 409
    unmerged = client.post(f"/api/v1/ideas/{b.id}/unmerge", headers=as_["pam"])
    assert unmerged.status_code == 200 and unmerged.json["id"] == a.id
    assert unmerged.json["votes"] == 1 and unmerged.json["merged"] == []
    assert db.session.get(Idea, b.id).merged_into_id is None


def test_similar_validates_then_finds(client, make_idea, personas):
    bad = client.get("/api/v1/similar?limit=500")
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"limit"}
    empty = client.get("/api/v1/similar")
    assert empty.status_code == 422 and set(empty.json["fields"]) == {"title"}
    dark = make_idea("Dark mode for the dashboard", "Too bright at night.")
    make_idea("Export tasks to CSV", "For the monthly report.")
    found = client.get("/api/v1/similar?title=Dark+theme+for+the+dashboard&limit=5")
    assert found.status_code == 200
    assert found.json[0]["id"] == dark.id
    assert set(found.json[0]) == {"id", "title", "status", "votes", "score", "url"}


def test_staff_actions_stop_the_author_editing(client, as_, personas, make_idea):
    idea = make_idea(author=personas["anna"])
    services.post_comment(idea, personas["pam"], "Looking into it")
    db.session.commit()
    assert client.patch(f"/api/v1/ideas/{idea.id}", headers=as_["anna"],
                        json={"title": "Changed"}).status_code == 403
