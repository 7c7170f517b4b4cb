"""A small site with something to steal: ideas on public, members-only and staff-only boards,
a hidden idea, a public idea merged into a staff-only one, internal notes and hidden comments.
Every secret carries a marker so a test can prove it never reaches the wrong reader."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from werkzeug.routing import IntegerConverter

from forum import checks
from forum.accounts import services as accounts
from forum.accounts.models import Role, User
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Board, Comment, Idea, Visibility

# Hypothesis: a bounded number of examples so the suite stays quick; no deadline because the
# shared machine's timing varies. Function-scoped fixtures are fine here: every example works
# on the same test database and leaves it consistent.
settings.register_profile(
    "forum", max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("forum")

# Who may read which secret: the personas of the suite and the markers they must not see.
PERSONAS = ("anonymous", "customer", "other", "staff", "admin")
MEMBERS = "MEMBERS-SECRET"
STAFF = "STAFF-SECRET"
HIDDEN = "HIDDEN-SECRET"
INTERNAL = "INTERNAL-SECRET"
FORBIDDEN_MARKERS = {
    "anonymous": (MEMBERS, STAFF, HIDDEN, INTERNAL),
    "customer": (STAFF, HIDDEN, INTERNAL),
    "other": (STAFF, HIDDEN, INTERNAL),
    "staff": (),
    "admin": (),
}


@dataclass
class World:
    people: dict[str, User | None]   # persona -> account (None for anonymous)
    boards: dict[str, Board]         # public, members, staff
    ideas: dict[str, Idea]           # public, members, staff, hidden, merged
    internal_note: Comment
    hidden_comment: Comment


def _build_world() -> dict:
    """Create the site (once per session) and return the ids of what a test needs."""
    from tests.conftest import PASSWORD

    people = {}
    for key, name, role in [("customer", "Anna", Role.CUSTOMER), ("bob", "Bob", Role.CUSTOMER),
                            ("other", "Fred", Role.CUSTOMER), ("staff", "Pam", Role.STAFF),
                            ("admin", "Ada", Role.ADMIN)]:
        people[key] = accounts.register(email=f"{name.lower()}@example.com", name=name,
                                        password=PASSWORD, role=role)
    anna, pam = people["customer"], people["staff"]
    general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
    members = Board(slug="lounge", name=f"Lounge {MEMBERS} board",
                    description=f"About {MEMBERS}", visibility=Visibility.MEMBERS, position=1)
    staff = Board(slug="team", name=f"Team {STAFF} board", description=f"About {STAFF}",
                  visibility=Visibility.STAFF, position=2)
    db.session.add_all([members, staff])
    db.session.flush()
    public = services.submit_idea(anna, title="Dark mode", body="Please.", board=general)
    member_idea = services.submit_idea(anna, title=f"Members only {MEMBERS}",
                                       body=f"Body {MEMBERS}", board=members)
    staff_idea = services.submit_idea(pam, title=f"Roadmap {STAFF}", body=f"Body {STAFF}",
                                      board=staff)
    services.post_comment(staff_idea, pam, f"Comment {STAFF}")
    hidden = services.submit_idea(anna, title=f"Spam {HIDDEN}", body=f"Body {HIDDEN}",
                                  board=general)
    hidden.hidden_at = utcnow()
    # A public idea that the team merged into one on its own board.
    merged = services.submit_idea(anna, title="Night theme", body="Same as dark mode.",
                                  board=general)
    merged.merged_into = staff_idea
    merged.merged_at = utcnow()
    note = services.post_comment(public, pam, f"Note {INTERNAL}", internal=True)
    hidden_comment = services.post_comment(public, people["bob"], f"Rude {HIDDEN}")
    hidden_comment.hidden_at = utcnow()
    db.session.flush()
    # The merge above was done by hand; let the checker recount as the merge service would.
    checks.run(fix=True)
    db.session.commit()
    return {
        "people": {k: u.id for k, u in people.items()},
        "boards": {"public": general.id, "members": members.id, "staff": staff.id},
        "ideas": {"public": public.id, "members": member_idea.id, "staff": staff_idea.id,
                  "hidden": hidden.id, "merged": merged.id},
        "internal_note": note.id, "hidden_comment": hidden_comment.id,
    }


@dataclass
class WorldTemplate:
    url: str          # the seeded database every world test gets a copy of
    index: Path       # its search index, copied likewise
    ids: dict


@pytest.fixture(scope="session")
def world_template(migrated_db, tmp_path_factory) -> WorldTemplate:
    """The world, built once per run into a seeded template (tests/databases.py)."""
    from forum import create_app
    from forum.search import service as search
    from tests.conftest import config_for

    folder = tmp_path_factory.mktemp("world")
    ids: dict = {}

    def build(url: str) -> None:
        app = create_app(config_for(folder, url))
        with app.app_context():
            ids.update(_build_world())
            db.session.remove()
            db.engine.dispose()
        search.close(app)

    url = migrated_db.seed(build)
    return WorldTemplate(url=url, index=folder / "search-index", ids=ids)


@pytest.fixture(scope="session")
def database_seed(world_template) -> str:
    """Tests of the world get a copy of its template as their database (see database_url)."""
    return world_template.url


@pytest.fixture
def world_db(app_config, database_seed, world_template) -> tuple[str, dict]:
    """The world in this test's own database (SQLite or PostgreSQL alike), a copy of the one
    built for the run, with its search index beside it."""
    shutil.copytree(world_template.index, app_config["SEARCH_INDEX_DIR"], dirs_exist_ok=True)
    return app_config["DATABASE_URL"], world_template.ids


@pytest.fixture
def personas(app, world_db) -> dict[str, User]:
    """The root personas, already in the world: Anna, Bob, Fred, Pam and Ada."""
    return {name: db.session.scalar(db.select(User).where(User.email == f"{name}@example.com"))
            for name in ("anna", "bob", "fred", "pam", "ada")}


@pytest.fixture
def world(app, world_db) -> Iterator[World]:
    """The site, and afterwards proof that whatever the test did left no count drifting."""
    ids = world_db[1]
    yield World(
        people={"anonymous": None, **{k: db.session.get(User, v)
                                      for k, v in ids["people"].items() if k != "bob"}},
        boards={k: db.session.get(Board, v) for k, v in ids["boards"].items()},
        ideas={k: db.session.get(Idea, v) for k, v in ids["ideas"].items()},
        internal_note=db.session.get(Comment, ids["internal_note"]),
        hidden_comment=db.session.get(Comment, ids["hidden_comment"]),
    )
    db.session.rollback()
    assert checks.run() == []


def sign_in_as(client: FlaskClient, user: User | None) -> FlaskClient:
    """A signed-in session without going through the (rate-limited) sign-in form."""
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
    return client


@pytest.fixture
def client_as(app, world):
    """``client_as("staff")``: a fresh client signed in as that persona."""

    def make(persona: str) -> FlaskClient:
        return sign_in_as(app.test_client(), world.people[persona])

    return make


def sample_path(rule, world: World) -> str:
    """A URL for any rule of the url_map, its arguments taken from the world. A new route
    with an argument name not listed here still gets a value of the right type."""
    known = {"idea_id": world.ideas["public"].id, "user_id": world.people["customer"].id,
             "slug": "general", "filename": "css/app.css", "board": "general"}
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name in known:
            values[name] = known[name]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif type(converter).__name__ == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "general"
    return rule.build(values, append_unknown=False)[1]


def rules_with(app, methods: set[str]) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.methods & methods]
