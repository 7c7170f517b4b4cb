"""The hot paths stay cheap as the data grows: no query per idea on a list page, and every list
query reads an index in list order instead of scanning and sorting the ideas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from forum import pagecache
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Board, Tag, Visibility, idea_tags

LIST_PAGES = ["/?sort=top", "/?sort=trending", "/?sort=new", "/?sort=activity",
              "/boards/general?sort=top", "/boards/general?sort=new",
              "/boards/beta?sort=trending"]


@contextmanager
def statements() -> Iterator[list[tuple[str, tuple]]]:
    seen: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def busy_site(personas, make_user, make_idea, general):
    """Ideas on two boards with votes, comments, tags, a merge and hidden one: everything a
    list row could be tempted to load lazily."""
    beta = Board(slug="beta", name="Beta", visibility=Visibility.MEMBERS, position=1)
    tag = Tag(slug="ux", name="UX")
    db.session.add_all([beta, tag])
    db.session.commit()
    authors = [make_user(f"Author {n}") for n in range(4)]
    ideas = []
    for n in range(24):
        idea = make_idea(f"Idea number {n} about exports", author=authors[n % 4],
                         board=beta if n % 3 == 0 else general)
        ideas.append(idea)
    for idea in ideas[::2]:
        services.cast_vote(idea, personas["anna"])
        services.post_comment(idea, personas["bob"], "Same here.")
    db.session.execute(idea_tags.insert(), [{"idea_id": i.id, "tag_id": tag.id}
                                            for i in ideas[::4]])
    db.session.commit()
    return ideas


def _count(client, path: str) -> int:
    # The test's app context outlives requests: start each from no transaction, like a server.
    db.session.rollback()
    # What is counted is a page being rendered, not served again to a signed-out visitor (the
    # page size changes between two counts, and the stored page does not know it).
    pagecache.clear()
    with statements() as seen:
        response = client.get(path)
    assert response.status_code == 200
    # SQLite's driver sends its BEGIN as a statement, PostgreSQL's does not: count the rest.
    return sum(1 for statement, _ in seen if statement.strip().upper() != "BEGIN")


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_list_pages_issue_the_same_queries_for_any_page_size(app, client, auth, busy_site,
                                                             signed_in):
    if signed_in:
        auth.login()
        # The "signed in" message shows on the next page, which is never a stored one: read it,
        # so that both page sizes are counted on the same path.
        client.get("/")
    counts = {}
    for per_page in (3, 20):
        app.config["IDEAS_PER_PAGE"] = per_page
        counts[per_page] = {path: _count(client, path) for path in LIST_PAGES
                            if signed_in or "beta" not in path}
    assert counts[3] == counts[20]
    # Boards, tags, count, the page of ideas, their tags; signed in adds who I am, my unread
    # notifications and what I voted for.
    assert max(counts[20].values()) == (8 if signed_in else 5)


def test_the_dashboard_does_not_query_per_shipped_idea(client, auth, personas, make_idea):
    """Closing the loop was once counted with three queries per shipped idea: two minutes at
    5,000 shipped ideas among 1,000,000 votes. Shipping more ideas, with voters, a merged
    duplicate and a voter who asked to hear nothing, must not add a statement."""
    from forum.ideas import merging
    from forum.ideas.models import Status, SubscriptionLevel

    shipped = db.session.scalar(db.select(Status).where(Status.slug == "shipped"))

    def ship(n: int) -> None:
        for k in range(n):
            idea = make_idea(f"Shipped idea {n}-{k}")
            duplicate = make_idea(f"Shipped duplicate {n}-{k}")
            services.cast_vote(idea, personas["anna"])
            services.cast_vote(duplicate, personas["bob"])
            merging.merge_ideas(duplicate, idea, personas["pam"])
            services.set_subscription(idea, personas["fred"], SubscriptionLevel.NONE)
            services.cast_vote(idea, personas["fred"])
            services.change_status(idea, shipped, personas["pam"], note="Done")
        db.session.commit()

    auth.login("pam@example.com")
    ship(1)
    before = _count(client, "/staff/insights")
    ship(4)
    assert _count(client, "/staff/insights") == before
    # Every voter was told: Anna, and Bob through the duplicate; Fred asked to hear nothing.
    page = client.get("/staff/insights").text
    assert re.search(r'data-figure="loop-closed">100% <span class="muted">\(5 of 5\)', page)


def test_profile_lists_do_not_query_per_idea(client, auth, personas, make_idea):
    anna = personas["anna"]
    make_idea("First idea of Anna", author=anna)
    few = _count(client, f"/people/{anna.id}")
    for n in range(10):
        make_idea(f"Idea {n} of Anna", author=anna)
    assert _count(client, f"/people/{anna.id}") == few


def test_idea_page_queries_do_not_grow_with_comments_or_history(client, auth, personas,
                                                                 make_idea):
    from forum.ideas.models import Status

    idea = make_idea(author=personas["bob"])
    services.post_comment(idea, personas["anna"], "First!")
    db.session.commit()
    auth.login()
    few = _count(client, f"/ideas/{idea.id}")
    for n in range(8):
        services.post_comment(idea, personas["pam" if n % 2 else "bob"], f"Comment {n}")
    for slug in ("under_review", "planned", "in_progress"):
        status = db.session.scalar(db.select(Status).where(Status.slug == slug))
        services.change_status(idea, status, personas["pam" if slug != "planned" else "ada"])
    db.session.commit()
    assert _count(client, f"/ideas/{idea.id}") == few


def _plan(statement: str, parameters: tuple) -> str:
    """SQLite's plan for a statement as the driver ran it (``?`` placeholders)."""
    rows = db.session.execute(text("EXPLAIN QUERY PLAN " + statement.replace(
        "?", ":p").replace(":p", "{}").format(*[f":p{i}" for i in range(
            statement.count("?"))])), {f"p{i}": v for i, v in enumerate(parameters)})
    return "\n".join(row[-1] for row in rows)


def _plans(client, path: str) -> list[tuple[str, str]]:
    with statements() as seen:
        assert client.get(path).status_code == 200
    plans = [(statement, _plan(statement, parameters)) for statement, parameters in seen
             if re.search(r"\bFROM ideas\b", statement)]
    db.session.rollback()
    return plans


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL's planner chooses by "
                        "table statistics, which a test's few rows do not resemble")
@pytest.mark.parametrize("path", LIST_PAGES)
def test_list_queries_read_an_index_in_list_order(client, auth, busy_site, path):
    auth.login()
    plans = _plans(client, path)
    assert plans
    for statement, plan in plans:
        # Any table that grows with the site (the banned-authors subquery once scanned every
        # user: 10 ms a page at 100,000 people).
        assert not re.search(r"\bSCAN (ideas|users|votes|comments)\b", plan), (statement, plan)
        assert "TEMP B-TREE" not in plan, (statement, plan)


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL's planner chooses by "
                        "table statistics, which a test's few rows do not resemble")
def test_the_inbox_is_counted_from_its_own_index(client, auth, busy_site):
    """The triage inbox's count once read every idea (220 ms at 100,000 ideas)."""
    auth.login("pam@example.com")
    counts = [plan for statement, plan in _plans(client, "/staff/inbox")
              if "count(" in statement.lower()]
    assert counts and all("ix_ideas_inbox" in plan for plan in counts), counts


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL's planner chooses by "
                        "table statistics, which a test's few rows do not resemble")
def test_the_team_is_read_from_its_index_and_banned_members_are_left_out(
        client, auth, busy_site, make_user):
    """The owner choices of the triage pages: read through the role index (the team is a
    handful among 100,000 customers), not by walking everyone who is not banned."""
    from forum.accounts.models import Role

    gone = make_user("Gina Gone", email="gina@example.com", role=Role.STAFF)
    gone.is_banned = True
    db.session.commit()
    auth.login("pam@example.com")
    with statements() as seen:
        page = client.get("/staff/inbox").text
    team = [(s, p) for s, p in seen if "users.role IN" in s]
    assert len(team) == 1
    plan = _plan(*team[0])
    assert "ix_users_role" in plan, plan
    assert "Pam" in page and "Gina Gone" not in page


def _vote_forms(html: str) -> list[tuple[str, str]]:
    forms = re.findall(r'<form method="post" action="/ideas/\d+/(?:un)?vote".*?</form>', html,
                       re.S)
    return [(re.search(r'name="csrf_token" value="([^"]*)"', f).group(1),
             re.search(r'name="next" value="([^"]*)"', f).group(1)) for f in forms]


def test_vote_forms_carry_each_visitors_token_and_page(app, make_idea):
    make_idea("Export to CSV")
    first, second = app.test_client(), app.test_client()
    for client, path in ((first, "/?sort=new"), (second, "/?sort=top")):
        html = client.get(path).text
        own_token = re.search(r'name="csrf_token" value="([^"]*)"', html.split("<footer")[1])
        assert _vote_forms(html) == [(own_token.group(1), path.replace("&", "&amp;"))]
    assert _vote_forms(first.get("/?sort=new").text) != _vote_forms(second.get("/").text)


def test_list_rows_show_every_change(client, auth, personas, make_idea):
    idea = make_idea("Export to CSV", "Monthly reports.", author=personas["anna"])
    assert "Export to CSV" in client.get("/").text
    services.edit_idea(idea, personas["anna"], title="Export to Excel", body="Quarterly too.")
    services.post_comment(idea, personas["bob"], "Yes please.")
    services.cast_vote(idea, personas["bob"])
    db.session.commit()
    html = client.get("/").text
    assert "Export to Excel" in html and "Quarterly too." in html
    assert "1 comment" in html and 'data-vote-count>2<' in html
    auth.login("bob@example.com")
    assert 'aria-pressed="true"' in client.get("/").text


def test_a_vote_and_its_withdrawal_cost_a_fixed_few_statements(client, auth, personas,
                                                               make_idea):
    """Votes are written one at a time (SQLite has one writer): every statement a vote runs
    holding the write lock keeps every other voter waiting. A vote once took 15 statements,
    then 11, written through the unit of work; as SQL statements it takes 8, of which only the
    last 6 hold SQLite's lock: the person and the idea are read before it (dbtuning.reads_first).
    One more means a new read crept in."""
    idea = make_idea("Dark mode", author=personas["bob"])
    idea_id = idea.id  # read here: inside the loop it would be the test's own statement
    auth.login()
    counts, locked = {}, {}
    for action in ("vote", "unvote"):
        db.session.rollback()
        with statements() as seen:
            response = client.post(f"/ideas/{idea_id}/{action}",
                                   headers={"Accept": "application/json"})
        assert response.status_code == 200, response.text
        said = [statement.strip().upper() for statement, _ in seen]
        counts[action] = sum(1 for s in said if s not in ("BEGIN", "BEGIN IMMEDIATE"))
        if db.engine.dialect.name == "sqlite":
            # Deferred reads first, then one write transaction holding the lock.
            assert said.count("BEGIN IMMEDIATE") == 1, said
            begun = said.index("BEGIN IMMEDIATE")
            assert all(s == "BEGIN" or s.startswith("SELECT") for s in said[:begun]), said
            locked[action] = len(said) - begun - 1
    db.session.rollback()
    assert services.count_votes(idea) == 1  # the author's vote alone is left
    # PostgreSQL re-reads the idea FOR UPDATE, and SQLite its counters under the lock.
    assert counts["vote"] <= 8, counts
    assert counts["unvote"] <= 6, counts
    if db.engine.dialect.name == "sqlite":
        assert locked["vote"] <= 6 and locked["unvote"] <= 4, locked
