"""Declarative base with a constraint naming convention, and shared column helpers."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

# Named constraints let Alembic drop and alter them, on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive storage) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            # PostgreSQL answers in the session's time zone, which the server decides.
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

# Tables the migrations create only on PostgreSQL (its search index: forum.search.
# postgres_backend). The models do not describe them, so comparisons of models with the
# database (autogenerate, tests/web/test_migrations.py) leave them out with include_object.
POSTGRES_ONLY_TABLES = frozenset({"search_documents", "search_state"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object`` hook: everything but the PostgreSQL-only tables."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in POSTGRES_ONLY_TABLES


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """An enum column stored by value: readable in SQL and stable across member renames."""
    return Enum(cls, name=name, values_callable=lambda c: [m.value for m in c],
                native_enum=False, validate_strings=True, length=20)
