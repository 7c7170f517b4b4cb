"""The schema comes from migrations: they must build exactly what the models describe."""

from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from forum.db import include_object, utcnow
from forum.extensions import db
from forum.ideas.models import Board, Status


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "render_as_batch": True, "include_object": include_object})
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


def test_the_general_board_is_dated_in_utc(app):
    # The template is migrated once per run; a time-zone slip would be hours, not minutes.
    general = db.session.scalar(db.select(Board).where(Board.slug == "general"))
    assert abs(general.created_at - utcnow()) < timedelta(minutes=45)


def test_migrations_run_down_and_up_again(app):
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    downgrade(revision="base")
    assert inspect(db.engine).get_table_names() == ["alembic_version"]
    upgrade()
    test_a_new_site_has_one_board_and_the_six_statuses(app)
