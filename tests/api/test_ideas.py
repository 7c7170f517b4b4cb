from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Idea, Tag, Vote, VoteSource


def test_list_ideas_pages_through_canonical_ideas(client, make_idea, no_drift):
    for n in range(5):
        make_idea(f"Idea number {n}")
    first = client.get("/api/v1/ideas?per_page=2&sort=new")
    assert first.status_code == 200
    assert first.json["total"] == 5 and first.json["page"] == 1 and first.json["per_page"] == 2
    assert [i["title"] for i in first.json["items"]] == ["Idea number 4", "Idea number 3"]
    last = client.get("/api/v1/ideas?per_page=2&page=3&sort=new")
    assert [i["title"] for i in last.json["items"]] == ["Idea number 0"]
    assert "voted" not in first.json["items"][0]


def test_list_ideas_filters_by_board_status_and_tag(client, make_idea, app):
    tagged, other = make_idea("Tagged idea"), make_idea("Plain idea")
    tag = Tag(slug="ux", name="UX")
    db.session.add(tag)
    tagged.tags.append(tag)
    db.session.commit()
    by_tag = client.get("/api/v1/ideas?tag=ux").json
    assert [i["id"] for i in by_tag["items"]] == [tagged.id]
    assert by_tag["items"][0]["tags"] == ["ux"]
    by_status = client.get("/api/v1/ideas?status=open&board=general").json
    assert {i["id"] for i in by_status["items"]} == {tagged.id, other.id}
    assert client.get("/api/v1/ideas?status=planned").json["total"] == 0


def test_list_ideas_names_each_bad_parameter(client):
    response = client.get("/api/v1/ideas?sort=best&page=0&per_page=1000&board=nope")
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"sort", "page", "per_page"}
    response = client.get("/api/v1/ideas?board=nope")
    assert response.status_code == 422 and set(response.json["fields"]) == {"board"}
    response = client.get("/api/v1/ideas?status=nope&tag=nope")
    assert response.status_code == 422 and "status" in response.json["fields"]


def test_q_narrows_the_list_to_full_text_matches(client, make_idea):
    dark = make_idea("Dark mode for the dashboard", "Too bright at night.")
    make_idea("Export tasks to CSV", "For the monthly report.")
    response = client.get("/api/v1/ideas?q=darker+dashboards")  # stemmed
    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == [dark.id]
    assert response.json["total"] == 1


def test_post_idea_casts_the_authors_vote(client, as_, personas, no_drift):
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": "Export to CSV", "body": "For **finance**."})
    assert response.status_code == 201
    idea = response.json
    assert response.headers["Location"].endswith(f"/api/v1/ideas/{idea['id']}")
    assert idea["votes"] == 1 and idea["voted"] is True and idea["status"] == "open"
    assert idea["board"] == "general" and idea["author"]["name"] == "Anna"
    assert "<strong>finance</strong>" in idea["body_html"]
    assert idea["url"].endswith(f"/ideas/{idea['id']}")
    assert client.get(response.headers["Location"]).json["title"] == "Export to CSV"


def test_post_idea_with_tags(client, as_):
    db.session.add(Tag(slug="billing", name="Billing"))
    db.session.commit()
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": "Invoices in PDF", "body": "", "tags": ["billing"]})
    assert response.status_code == 201 and response.json["tags"] == ["billing"]
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": "Invoices in PDF", "body": "", "tags": ["nope"]})
    assert response.status_code == 422 and set(response.json["fields"]) == {"tags"}


def test_post_idea_names_each_invalid_field_and_stores_nothing(client, as_):
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": "ab", "body": 5, "titel": "typo", "board": "nope"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"title", "body", "titel"}
    response = client.post("/api/v1/ideas", headers=as_["anna"], json={"body": "no title"})
    assert response.status_code == 422 and set(response.json["fields"]) == {"title"}
    response = client.post("/api/v1/ideas", headers=as_["anna"], json={"title": "No body"})
    assert response.status_code == 422 and set(response.json["fields"]) == {"body"}
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": "A fine title", "body": "", "board": "nope"})
    assert response.status_code == 422 and set(response.json["fields"]) == {"board"}
    # Whitespace passes the schema but not the service's own rule: same shape.
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": "  a    ", "body": ""})
    assert response.status_code == 422 and set(response.json["fields"]) == {"title"}
    assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0


def test_post_idea_needs_an_identity_and_an_active_account(client, as_, personas):
    response = client.post("/api/v1/ideas", json={"title": "Anonymous idea", "body": ""})
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    personas["fred"].is_banned = True
    db.session.commit()
    response = client.post("/api/v1/ideas", headers=as_["fred"],
                           json={"title": "Spam spam", "body": ""})
    assert response.status_code == 403 and response.json["error"] == "forbidden"


def test_get_idea_and_unknown_ids(client, make_idea):
    idea = make_idea()
    response = client.get(f"/api/v1/ideas/{idea.id}")
    assert response.status_code == 200
    assert set(response.json) == {
        "id", "title", "body", "body_html", "status", "board", "tags", "votes", "comments",
        "author", "created_at", "updated_at", "merged_into", "merged", "url"}
    assert response.json["merged_into"] is None and response.json["merged"] == []
    missing = client.get("/api/v1/ideas/999999")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"


def test_a_merged_idea_answers_with_its_canonical_idea(client, make_idea):
    canonical, duplicate = make_idea("Dark mode"), make_idea("Night theme")
    duplicate.merged_into_id = canonical.id
    db.session.commit()
    assert client.get(f"/api/v1/ideas/{duplicate.id}").json["merged_into"] == canonical.id
    assert client.get(f"/api/v1/ideas/{canonical.id}").json["merged"] == [duplicate.id]
    listed = client.get("/api/v1/ideas").json
    assert [i["id"] for i in listed["items"]] == [canonical.id]


def test_author_edits_until_staff_acts(client, as_, personas, make_idea):
    idea = make_idea(author=personas["anna"])
    response = client.patch(f"/api/v1/ideas/{idea.id}", headers=as_["anna"],
                            json={"title": "Dark mode everywhere"})
    assert response.status_code == 200
    assert response.json["title"] == "Dark mode everywhere"
    assert response.json["body"] == "It is too bright at night."
    staff = client.patch(f"/api/v1/ideas/{idea.id}", headers=as_["pam"],
                         json={"body": "Clarified by the team."})
    assert staff.status_code == 200 and staff.json["body"] == "Clarified by the team."
    late = client.patch(f"/api/v1/ideas/{idea.id}", headers=as_["anna"], json={"title": "Again"})
    assert late.status_code == 403
    assert db.session.get(Idea, idea.id).title == "Dark mode everywhere"


def test_patch_refuses_others_bad_fields_and_unknown_ids(client, as_, personas, make_idea):
    idea = make_idea(author=personas["anna"])
    assert client.patch(f"/api/v1/ideas/{idea.id}", json={"title": "Mine"}).status_code == 401
    fred = client.patch(f"/api/v1/ideas/{idea.id}", headers=as_["fred"], json={"title": "Fred's"})
    assert fred.status_code == 403
    bad = client.patch(f"/api/v1/ideas/{idea.id}", headers=as_["anna"],
                       json={"title": "x", "tags": "ux"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"title", "tags"}
    missing = client.patch("/api/v1/ideas/999999", headers=as_["anna"], json={"title": "Mine"})
    assert missing.status_code == 404
    assert db.session.get(Idea, idea.id).title == "Dark mode for the dashboard"


def test_statuses_boards_and_tags(client):
    db.session.add(Tag(slug="ux", name="UX"))
    db.session.commit()
    statuses = client.get("/api/v1/statuses").json
    assert [s["slug"] for s in statuses] == [
        "open", "under_review", "planned", "in_progress", "shipped", "declined"]
    assert {s["kind"] for s in statuses} == {"open", "active", "complete", "closed"}
    assert [b["slug"] for b in client.get("/api/v1/boards").json] == ["general"]
    assert client.get("/api/v1/tags").json == [{"slug": "ux", "name": "UX", "color": "#64748b"}]


def test_voted_is_given_to_signed_in_callers(client, as_, personas, make_idea):
    idea = make_idea()
    services.cast_vote(idea, personas["bob"], source=VoteSource.WEB)
    db.session.commit()
    assert client.get(f"/api/v1/ideas/{idea.id}", headers=as_["bob"]).json["voted"] is True
    assert client.get(f"/api/v1/ideas/{idea.id}", headers=as_["anna"]).json["voted"] is False
    assert db.session.scalar(db.select(db.func.count(Vote.id))) == 2


def test_ids_beyond_any_database_integer_are_unknown_not_crashes(client, as_):
    huge = 2**63
    assert client.get(f"/api/v1/ideas/{huge}").status_code == 404
    assert client.get(f"/ideas/{huge}").status_code == 404
    response = client.post("/api/v1/ideas/1/merge", headers=as_["pam"], json={"into": huge})
    assert response.status_code in (404, 422)


def test_a_page_of_ideas_costs_a_fixed_number_of_queries(client, make_idea, app):
    from sqlalchemy import event

    for n in range(12):
        make_idea(f"Idea number {n}")
    statements = []

    def count(*_args):
        statements.append(1)

    client.get("/api/v1/ideas?per_page=1")  # warm up: connection set-up is not the point
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        few = client.get("/api/v1/ideas?per_page=2")
        few_count = len(statements)
        statements.clear()
        many = client.get("/api/v1/ideas?per_page=12")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(few.json["items"]) == 2 and len(many.json["items"]) == 12
    assert len(statements) == few_count
