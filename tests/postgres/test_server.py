"""The PostgreSQL tier: what only PostgreSQL has, on the server the suite runs against."""

from sqlalchemy import text

from forum.extensions import db


def test_the_server_is_postgresql_15_or_later_in_utf8(app):
    version = db.session.scalar(text("SHOW server_version_num"))
    assert int(version) >= 150000
    assert db.session.scalar(text("SHOW server_encoding")) == "UTF8"


def test_the_contrib_extensions_search_needs_are_available(app):
    # pg_trgm (similar titles, typos) ships with Debian's postgresql package; unaccent too.
    available = set(db.session.scalars(text("SELECT name FROM pg_available_extensions")))
    assert {"pg_trgm", "unaccent"} <= available
