"""The schema comes from migrations: they must build exactly what the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from forum.extensions import db
from forum.ideas.models import Board, Status


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_a_new_site_has_one_board_and_the_six_statuses(app):
    assert [b.slug for b in db.session.scalars(db.select(Board))] == ["general"]
    statuses = db.session.scalars(db.select(Status).order_by(Status.position)).all()
    assert [(s.slug, s.kind.value) for s in statuses] == [
        ("open", "open"), ("under_review", "open"), ("planned", "active"),
        ("in_progress", "active"), ("shipped", "complete"), ("declined", "closed"),
    ]
    assert [s.slug for s in statuses if s.is_default] == ["open"]
