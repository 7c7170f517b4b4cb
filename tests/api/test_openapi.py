"""The published OpenAPI document is valid, and the live app keeps its promises: schemathesis
generates requests from the document and checks every answer against it."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from forum.accounts.models import Role
from forum.extensions import db
from forum.ideas.models import Tag


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    # Every call of CONTRACT.md is there.
    calls = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert calls == {
        ("GET", "/ideas"), ("POST", "/ideas"), ("GET", "/ideas/{idea_id}"),
        ("PATCH", "/ideas/{idea_id}"), ("POST", "/ideas/{idea_id}/vote"),
        ("DELETE", "/ideas/{idea_id}/vote"), ("POST", "/ideas/{idea_id}/votes"),
        ("GET", "/ideas/{idea_id}/voters"), ("POST", "/ideas/{idea_id}/status"),
        ("POST", "/ideas/{idea_id}/merge"), ("POST", "/ideas/{idea_id}/unmerge"),
        ("GET", "/ideas/{idea_id}/comments"), ("POST", "/ideas/{idea_id}/comments"),
        ("GET", "/similar"), ("GET", "/statuses"), ("GET", "/boards"), ("GET", "/tags"),
        ("GET", "/ideas/{idea_id}/history"),
    }


def test_the_document_describes_what_the_code_validates(client):
    spec = client.get("/api/v1/openapi.json").json
    idea_in = spec["components"]["schemas"]["IdeaIn"]
    assert idea_in["required"] == ["title", "body"]
    assert idea_in["properties"]["title"]["minLength"] == 3
    assert idea_in["additionalProperties"] is False
    created = spec["paths"]["/ideas"]["post"]["responses"]
    assert "Location" in created["201"]["headers"]
    assert created["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_the_api_page_is_linked_and_lists_every_call(client):
    assert 'href="/api/v1/docs"' in client.get("/").text
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    for call in ("GET /api/v1/ideas", "POST /api/v1/ideas/{idea_id}/status",
                 "DELETE /api/v1/ideas/{idea_id}/vote", "GET /api/v1/similar"):
        assert call in page.text
    assert "Authorization: Bearer" in page.text and "X-CSRFToken" in page.text


@pytest.mark.slow
def test_generated_requests_find_no_server_error_and_no_broken_promise(
        app, make_user, make_idea, bearer, no_drift):
    staff = make_user("Sam", role=Role.STAFF)
    for n in range(3):
        make_idea(f"Seed idea {n}")
    db.session.add(Tag(slug="ux", name="UX"))
    db.session.commit()
    headers = bearer(staff)

    def own_context(environ, start_response):
        # Each request in its own application context, as in production: schemathesis also
        # replays requests without the token and must not meet the previous caller in ``g``.
        with app.app_context():
            return app.wsgi_app(environ, start_response)

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", own_context)
    operations = [result.ok() for result in schema.get_all_operations()]
    strategy = st.one_of([op.as_strategy() for op in operations])

    # Bounded: 150 cases over the 18 calls, about ten seconds on a small machine.
    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        response = case.call(headers=headers)
        assert response.status_code < 500 or response.status_code == 501, response.text
        # Every other check runs (status codes, content types, headers, response schemas,
        # ignored auth). Left out: schema-valid data refused where a rule needs the database
        # (an unknown board slug, a blank title, a move the workflow forbids) is right to get
        # 422 or 409; and the 5xx check, replaced by the assertion above because 501 is the
        # documented answer of calls whose feature is not built yet.
        case.validate_response(response, headers=headers,
                               excluded_checks=[positive_data_acceptance, not_a_server_error])

    check()
