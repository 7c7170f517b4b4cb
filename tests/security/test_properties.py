"""Property-based tests: any text through the services and forms either comes back as a
clean DomainError or is stored (cleaned as documented) and renders inert; any sequence of
votes and unvotes keeps every count equal to its rows."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from forum import checks
from forum.accounts import services as accounts
from forum.errors import DomainError
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Idea, Vote
from forum.text import clean_input, render_markdown
from tests.hostile import CORPUS, assert_inert, assert_response_inert, page_text

# Everything, lone surrogates included: a JSON body may carry "\ud800", a form never does.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=400)
# Text a browser can send (UTF-8 encodable), seasoned with the hostile corpus.
FORM_TEXT = st.one_of(st.text(max_size=300), st.sampled_from(CORPUS),
                      st.builds(lambda a, b: a + b, st.sampled_from(CORPUS), st.text(max_size=50)))


def one_line(text: str) -> str:
    return " ".join(clean_input(text).split())


def _refused_cleanly(error: DomainError, fields: set[str]) -> None:
    db.session.rollback()
    assert str(error) and error.status_code in (403, 409, 422)
    assert set(error.fields) <= fields and error.fields, error.fields


@given(title=ANY_TEXT, body=ANY_TEXT)
def test_submit_idea_with_any_text(world, title, body):
    anna = world.people["customer"]
    try:
        idea = services.submit_idea(anna, title=title, body=body, board=world.boards["public"])
        db.session.commit()
    except DomainError as error:
        _refused_cleanly(error, {"title", "body"})
        return
    db.session.expire_all()
    assert (idea.title, idea.body) == (one_line(title), clean_input(body))
    assert_inert(str(render_markdown(idea.body)), "body")


@given(title=ANY_TEXT, body=ANY_TEXT)
def test_edit_idea_with_any_text(world, title, body):
    idea = world.ideas["members"]
    before = (idea.title, idea.body)
    try:
        services.edit_idea(idea, world.people["customer"], title=title, body=body)
        db.session.commit()
    except DomainError as error:
        _refused_cleanly(error, {"title", "body"})
        db.session.expire_all()
        assert (idea.title, idea.body) == before
        return
    db.session.expire_all()
    assert (idea.title, idea.body) == (one_line(title), clean_input(body))


@given(body=ANY_TEXT, internal=st.booleans())
def test_post_comment_with_any_text(world, body, internal):
    try:
        comment = services.post_comment(world.ideas["public"], world.people["staff"], body,
                                        internal=internal)
        db.session.commit()
    except DomainError as error:
        _refused_cleanly(error, {"body"})
        return
    db.session.expire_all()
    assert comment.body == clean_input(body) and comment.is_internal == internal
    assert_inert(str(render_markdown(comment.body)), "comment")
    assert checks.run() == []


@given(name=ANY_TEXT, email=st.one_of(st.emails(), ANY_TEXT), password=ANY_TEXT)
@example(name="x", email="lone@example.com", password="\ud800 surrogate password")
@example(name="x", email="Idn@xn--vermgensberatung-pwb.example", password="long enough")
def test_register_with_any_text(world, name, email, password):
    try:
        user = accounts.register(email=email, name=name, password=password)
        db.session.commit()
    except DomainError as error:
        _refused_cleanly(error, {"email", "name", "password"})
        return
    db.session.expire_all()
    assert user.name == (one_line(name) or user.email.split("@")[0])
    assert user.email == accounts.normalise_email(email)
    assert accounts.authenticate(email, password) == user


@given(title=FORM_TEXT, body=FORM_TEXT)
def test_the_idea_form_with_any_text(world, client_as, title, body):
    anna = client_as("customer")
    response = anna.post("/ideas/new", data={"title": title, "body": body,
                                             "board": world.boards["public"].id})
    if "\x00" in title + body:  # NUL characters are refused outright
        assert response.status_code == 400
        return
    assert response.status_code in (302, 422), response.status_code
    assert_response_inert(response, "form")
    if response.status_code == 302:
        page = anna.get(response.location)
        assert_inert(page.text, "idea page")
        assert one_line(title) in page_text(page.text)


VOTERS = ("customer", "other", "staff", "admin")
IDEAS = ("public", "members", "merged", "staff")


@given(st.lists(st.tuples(st.sampled_from(VOTERS), st.sampled_from(IDEAS), st.booleans()),
                max_size=30))
def test_any_sequence_of_votes_keeps_counts_equal_to_rows(world, steps):
    for persona, kind, cast in steps:
        operation = services.cast_vote if cast else services.withdraw_vote
        operation(world.ideas[kind], world.people[persona])
        db.session.commit()
    assert checks.run() == []
    for kind in ("public", "members", "staff"):
        idea = world.ideas[kind]
        group = services.group_ids(idea)
        voters = db.session.scalar(select(func.count(func.distinct(Vote.user_id)))
                                   .where(Vote.idea_id.in_(group)))
        assert db.session.get(Idea, idea.id).vote_count == voters


@given(st.lists(st.tuples(st.sampled_from(("customer", "other")), st.booleans()),
                min_size=1, max_size=12))
def test_votes_through_the_web_answer_the_stored_count(world, client_as, steps):
    idea = world.ideas["public"]
    for persona, cast in steps:
        response = client_as(persona).post(f"/ideas/{idea.id}/{'vote' if cast else 'unvote'}",
                                           headers={"Accept": "application/json"})
        assert response.status_code == 200
        db.session.expire_all()
        assert response.json["votes"] == db.session.get(Idea, idea.id).vote_count
        assert response.json["voted"] is cast
    assert checks.run() == []
