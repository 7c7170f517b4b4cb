"""Extension objects, created unbound here and bound in ``create_app``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from forum.db import Base


class _Migrations:
    """Flask-Migrate, imported when something migrates.

    Importing Flask-Migrate imports Alembic and Mako: 11 MB in every web worker, which never
    migrates. ``init_app`` binds stand-ins instead: the ``flask db`` commands and
    ``app.extensions["migrate"]`` (what flask_migrate's functions and migrations/env.py read)
    bind the real extension, with the same options, when first used.
    """

    def init_app(self, app: Flask, db: SQLAlchemy, **options: Any) -> None:
        def bind() -> Any:
            if isinstance(app.extensions.get("migrate"), _Unbound):
                from flask_migrate import Migrate

                Migrate(app, db, **options)  # replaces both stand-ins
            return app.extensions["migrate"]

        app.extensions["migrate"] = _Unbound(bind)
        app.cli.add_command(_UnboundCommands(bind))


class _Unbound:
    def __init__(self, bind: Callable[[], Any]) -> None:
        self._bind = bind

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bind(), name)


class _UnboundCommands(click.Command):
    """``flask db``: binds Flask-Migrate, then hands all its arguments to Flask-Migrate's."""

    def __init__(self, bind: Callable[[], Any]) -> None:
        super().__init__("db", help="Perform database migrations.", add_help_option=False,
                         context_settings={"ignore_unknown_options": True,
                                           "allow_extra_args": True})
        self._bind = bind

    def invoke(self, ctx: click.Context) -> Any:
        self._bind()
        from flask_migrate.cli import db as commands

        with commands.make_context(ctx.info_name, list(ctx.args), parent=ctx.parent) as real:
            return commands.invoke(real)


db = SQLAlchemy(model_class=Base)
migrate = _Migrations()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
