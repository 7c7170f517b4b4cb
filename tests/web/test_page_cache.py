"""Signed-out visitors are served stored pages, and never a page older than the database."""

from __future__ import annotations

import re
import sqlite3

import pytest

from forum import pagecache
from forum.accounts.models import User
from forum.extensions import db
from forum.ideas import services
from tests.conftest import PASSWORD
from tests.databases import kind
from tests.web.test_performance import statements


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _queries(client, path: str) -> tuple[int, str]:
    db.session.rollback()
    with statements() as seen:
        response = client.get(path)
    assert response.status_code == 200
    return sum(1 for s, _ in seen if s.strip().upper() != "BEGIN"), response.text


def test_a_second_visitor_gets_the_stored_page_with_a_token_of_their_own(app, make_idea):
    idea = make_idea("Dark mode")
    first, second = app.test_client(), app.test_client()
    rendered, page = _queries(first, "/")
    stored, again = _queries(second, "/")
    assert rendered > 0 and stored == 0
    assert "Dark mode" in again
    # Each visitor's language form carries the token of their own session.
    assert _token(page) != _token(again)
    assert again.replace(_token(again), "T") == page.replace(_token(page), "T")
    assert _queries(second, f"/ideas/{idea.id}")[0] > 0
    assert _queries(first, f"/ideas/{idea.id}")[0] == 0


def test_a_change_from_this_process_shows_at_once(client, make_idea, personas):
    idea = make_idea("Dark mode")
    assert "Offline mode" not in client.get("/").text
    make_idea("Offline mode")
    assert "Offline mode" in client.get("/").text
    services.cast_vote(idea, personas["anna"])
    db.session.commit()
    assert re.search(r"\b2\b", client.get(f"/ideas/{idea.id}").text)


def test_the_roadmap_is_stored_for_visitors_and_follows_status_changes(app, make_idea,
                                                                          personas):
    from forum.ideas.models import Status

    idea = make_idea("Dark mode")
    first, second = app.test_client(), app.test_client()
    rendered, page = _queries(first, "/roadmap")
    assert rendered > 0 and "Dark mode" not in page
    assert _queries(second, "/roadmap")[0] == 0
    planned = db.session.scalar(db.select(Status).where(Status.slug == "planned"))
    services.change_status(idea, planned, personas["pam"])
    db.session.commit()
    rendered, page = _queries(second, "/roadmap")
    assert rendered > 0 and "Dark mode" in page


@pytest.mark.sqlite_only("another process's commit is seen through SQLite's data_version; "
                        "PostgreSQL waits PAGE_CACHE_SECONDS")
def test_a_change_by_another_process_shows_at_once(app, client, make_idea):
    idea = make_idea("Dark mode")
    assert "Dark mode" in client.get("/").text
    idea_id = idea.id
    db.session.rollback()  # the test's own transaction would hold the write lock
    # Another worker (another connection, outside this process's sessions) renames it.
    other = sqlite3.connect(db.engine.url.database)
    other.execute("UPDATE ideas SET title = 'Night theme' WHERE id = ?", (idea_id,))
    other.commit()
    other.close()
    page = client.get("/").text
    assert "Night theme" in page and "Dark mode" not in page


def test_staff_and_waiting_messages_are_never_served_stored_pages(
        client, auth, make_idea, personas):
    idea = make_idea("Dark mode")
    client.get("/")
    auth.login()
    # The "signed in" message waits in the session: the page that shows it is rendered.
    assert _queries(client, "/")[0] > 0
    client.post(f"/ideas/{idea.id}/vote")
    page = client.get("/").text
    assert 'aria-pressed="true"' in page
    auth.logout()
    count, page = _queries(client, "/")
    assert count > 0
    assert "Dark mode" in page
    # Staff see their tools on every page: never a stored one.
    auth.login("pam@example.com")
    client.get("/")
    _queries(client, "/")
    count, page = _queries(client, "/")
    assert count > 3 and "Team tools" in page


def _member(app, email: str):
    member = app.test_client()
    member.post("/signin", data={"email": email, "password": PASSWORD})
    member.get("/")  # reads the "signed in" message
    return member


def _tokens_out(html: str) -> str:
    """The page without its CSRF token, nor the words of its relative times ("2 seconds ago"):
    the two pages compared are rendered a moment apart (the exact times stay compared)."""
    html = re.sub(r"(<time [^>]*>)[^<]*(</time>)", r"\1\2", html)
    return html.replace(_token(html), "T")


def test_members_are_served_one_stored_board_page_made_their_own(
        app, make_user, make_idea, personas, monkeypatch):
    """Every member's board page, served from the page stored for all members, is exactly the
    page rendered afresh for them: their votes, their name, their bell, their language."""
    from forum.ideas.models import Board, Visibility

    beta = Board(slug="beta", name="Beta", visibility=Visibility.MEMBERS, position=1)
    db.session.add(beta)
    db.session.commit()
    zoe = make_user('Zoé <b>"&amp;</b>', email="zoe@example.com")
    claire = make_user("Claire", email="claire@example.com")
    claire.locale = "fr"
    db.session.commit()
    ideas = [make_idea(f"Idea {n} about exports", author=personas["bob"],
                       board=beta if n % 3 == 0 else None) for n in range(8)]
    for idea in ideas[::2]:
        services.cast_vote(idea, personas["anna"])
    services.cast_vote(ideas[1], zoe)
    # Bob hears of a comment on his idea: his bell shows it.
    services.post_comment(ideas[1], personas["anna"], "Same here.")
    db.session.commit()
    clients = {email: _member(app, email) for email in
               ("anna@example.com", "zoe@example.com", "bob@example.com",
                "claire@example.com")}
    for path in ("/", "/?sort=new", "/boards/beta?sort=trending", "/?sort=top&page=1"):
        pagecache.clear()
        served = {}
        for email, member in clients.items():
            db.session.rollback()
            with statements() as seen:
                served[email] = member.get(path).text
            if email == "zoe@example.com":
                # Anna's request stored the page; Zoé's reads who she is, her votes and her
                # bell, not the ideas. On PostgreSQL members' pages are rendered (no counter
                # tells another worker's commit at once).
                read_list = any("FROM ideas" in s and "LIMIT" in s for s, _ in seen)
                assert read_list == (kind() == "postgres")
        monkeypatch.setattr(pagecache, "MEMBERS", False)
        for email, member in clients.items():
            fresh = member.get(path).text
            assert "\x00" not in served[email]
            assert _tokens_out(served[email]) == _tokens_out(fresh), (path, email)
        monkeypatch.setattr(pagecache, "MEMBERS", True)
    # The pages compared do differ from one member to the next.
    assert served["anna@example.com"].count('aria-pressed="true"') == 4
    assert served["zoe@example.com"].count('aria-pressed="true"') == 1
    page = clients["zoe@example.com"].get("/").text
    assert "Zoé &lt;b&gt;&#34;&amp;amp;&lt;/b&gt;" in page
    assert 'data-unread="1"' in clients["bob@example.com"].get("/").text
    assert 'lang="fr"' in clients["claire@example.com"].get("/").text
    # A vote shows at once on the member's next page.
    clients["zoe@example.com"].post(f"/ideas/{ideas[3].id}/vote")
    assert clients["zoe@example.com"].get("/").text.count('aria-pressed="true"') == 2


def test_languages_are_stored_apart(client, make_idea):
    make_idea("Dark mode")
    english = client.get("/", headers={"Accept-Language": "en"}).text
    french = client.get("/", headers={"Accept-Language": "fr"}).text
    italian = client.get("/", headers={"Accept-Language": "it"}).text
    assert 'lang="en"' in english and 'lang="fr"' in french and 'lang="it"' in italian


def test_the_api_list_is_stored_for_callers_without_a_token_only(app, client, make_idea,
                                                                    personas):
    from forum.accounts import tokens
    from forum.ideas.models import Board, Visibility

    make_idea("Dark mode")
    count, first = _queries(client, "/api/v1/ideas")
    again_count, again = _queries(app.test_client(), "/api/v1/ideas")
    assert count > 0 and again_count == 0 and again == first
    assert "Set-Cookie" not in app.test_client().get("/api/v1/ideas").headers
    # A full-text list reads the search index, which the cache's key does not follow.
    assert _queries(client, "/api/v1/ideas?q=dark")[0] > 0
    assert _queries(client, "/api/v1/ideas?q=dark")[0] > 0
    # A new idea shows at once.
    make_idea("Offline mode")
    listed = client.get("/api/v1/ideas").get_json()
    assert {i["title"] for i in listed["items"]} == {"Dark mode", "Offline mode"}
    assert listed["total"] == 2
    # A token holder is answered for who they are: staff see the team's board.
    staff_only = Board(slug="inner", name="Inner circle", visibility=Visibility.STAFF)
    db.session.add(staff_only)
    db.session.commit()
    make_idea("Pricing for 2027", board=staff_only)
    secret = tokens.create_token(personas["pam"], "ci").secret
    db.session.commit()
    as_staff = client.get("/api/v1/ideas", headers={"Authorization": f"Bearer {secret}"})
    assert "Pricing for 2027" in {i["title"] for i in as_staff.get_json()["items"]}
    assert "Pricing for 2027" not in client.get("/api/v1/ideas").text


@pytest.mark.sqlite_only("another process's commit is seen through SQLite's data_version")
def test_a_commit_landing_as_a_member_page_is_rendered_is_not_hidden_from_the_next_ones(
        app, make_idea, personas, monkeypatch):
    idea = make_idea("Dark mode")
    idea_id = idea.id
    anna, bob = _member(app, "anna@example.com"), _member(app, "bob@example.com")
    db.session.rollback()
    pagecache.clear()
    read_version = pagecache._database_version
    renamed = []

    def another_worker_commits_first():
        # Another worker renames the idea just as this request reads the database's state.
        if not renamed:
            renamed.append(True)
            other = sqlite3.connect(db.engine.url.database)
            other.execute("UPDATE ideas SET title = 'Night theme' WHERE id = ?", (idea_id,))
            other.commit()
            other.close()
        return read_version()

    monkeypatch.setattr(pagecache, "_database_version", another_worker_commits_first)
    anna.get("/")
    # Had Anna's request loaded her (and so fixed what it reads) before reading the state, it
    # would have stored the page before the rename under the state after it.
    for member in (bob, anna):
        page = member.get("/").text
        assert "Night theme" in page and "Dark mode" not in page


def _other_worker(statement: str, *params) -> None:
    """A commit through a connection of another worker (outside this process's sessions)."""
    db.session.rollback()  # the test's own transaction would hold the write lock
    other = sqlite3.connect(db.engine.url.database)
    other.execute(statement, params)
    other.commit()
    other.close()


@pytest.mark.sqlite_only("remembered by SQLite's data_version; on PostgreSQL read each time")
def test_a_member_and_their_votes_are_read_once_while_nothing_changes(app, make_idea,
                                                                      personas):
    ideas = [make_idea(f"Idea {n}", author=personas["bob"]) for n in range(3)]
    services.cast_vote(ideas[0], personas["anna"])
    db.session.commit()
    anna = _member(app, "anna@example.com")
    # Her first page keeps who she is; the next one, read in a transaction of its own, her votes.
    anna.get("/")
    anna.get("/")
    # Nothing changed: neither is read again.
    count, page = _queries(anna, "/")
    assert count == 0 and page.count('aria-pressed="true"') == 1
    # Another worker records her vote and her new name: both show on her next page.
    _other_worker("INSERT INTO votes (idea_id, user_id, source, created_at) "
                  "SELECT ?, id, 'web', CURRENT_TIMESTAMP FROM users WHERE email = ?",
                  ideas[1].id, "anna@example.com")
    _other_worker("UPDATE users SET name = 'Anna Karenina' WHERE email = ?", "anna@example.com")
    count, page = _queries(anna, "/")
    assert count > 0 and "Anna Karenina" in page and page.count('aria-pressed="true"') == 2
    # Banned by another worker: her next request is no longer served as hers.
    _other_worker("UPDATE users SET is_banned = 1 WHERE email = ?", "anna@example.com")
    page = anna.get("/").text
    assert "Anna Karenina" not in page


@pytest.mark.sqlite_only("remembered by SQLite's data_version; on PostgreSQL read each time")
def test_a_value_read_in_a_transaction_older_than_the_state_is_not_kept(app, personas):
    anna_id = personas["anna"].id
    db.session.rollback()
    pagecache.clear()

    def name() -> str:
        return db.session.scalar(db.select(User.name).where(User.id == anna_id))

    with app.test_request_context("/"):
        db.session.execute(db.select(User.id).limit(1)).all()  # the snapshot begins here
        other = sqlite3.connect(db.engine.url.database)
        other.execute("UPDATE users SET name = 'Anna K.' WHERE id = ?", (anna_id,))
        other.commit()
        other.close()
        # The database's state is read after the rename, the name in the older snapshot.
        assert pagecache.until_changed("name", (anna_id,), name) == "Anna"
        db.session.rollback()
        assert pagecache.until_changed("name", (anna_id,), name) == "Anna K."
        db.session.rollback()
        assert pagecache.until_changed("name", (anna_id,), lambda: "never computed") == \
            "Anna K."


@pytest.mark.sqlite_only("remembered by SQLite's data_version; on PostgreSQL read each time")
def test_what_is_kept_of_a_member_is_read_from_the_database_not_from_the_session(
        app, personas):
    from forum.accounts.services import _columns_of, signed_in_person

    anna_id = personas["anna"].id
    db.session.rollback()
    db.session.expunge_all()
    pagecache.clear()
    with app.test_request_context("/"):
        signed_in_person(anna_id)  # read and kept for this state
    db.session.rollback()
    db.session.expunge_all()
    with app.test_request_context("/"):
        person = signed_in_person(anna_id)  # put together from what was kept: no statement
        other = sqlite3.connect(db.engine.url.database)
        other.execute("UPDATE users SET is_banned = 1, name = 'Anna K.' WHERE id = ?",
                      (anna_id,))
        other.commit()
        other.close()
        # This request's session holds her as she was; what is kept for the new state comes
        # from the database, and it is what the next request gets.
        assert person.name == "Anna"
        kept = dict(pagecache.until_changed("person", (anna_id,), lambda: _columns_of(anna_id)))
        assert (kept["name"], kept["is_banned"]) == ("Anna K.", True)
    db.session.rollback()
    db.session.expunge_all()
    with app.test_request_context("/"):
        person = signed_in_person(anna_id)
        assert (person.name, person.is_banned) == ("Anna K.", True)


@pytest.mark.sqlite_only("the write lock is taken by BEGIN IMMEDIATE on SQLite")
def test_a_request_that_writes_reads_the_member_inside_its_write_transaction(
        app, make_idea, personas):
    idea = make_idea("Dark mode", author=personas["bob"])
    anna = _member(app, "anna@example.com")
    page = anna.get(f"/ideas/{idea.id}").text
    anna.get("/")
    db.session.rollback()
    with statements() as seen:
        assert anna.post(f"/ideas/{idea.id}/comments",
                         data={"csrf_token": _token(page), "body": "Yes please."}
                         ).status_code == 302
    # Read after BEGIN IMMEDIATE, in turn with the other writers: a ban committed while the
    # request waited for the lock stops it.
    statements_run = [s.strip().upper() for s, _ in seen]
    assert statements_run[0].startswith("BEGIN IMMEDIATE")
    assert any("FROM USERS" in s for s in statements_run[1:]), statements_run
