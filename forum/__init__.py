"""The feedback forum: ``create_app`` reads like a table of contents."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    import os

    # The instance folder holds the database, index, mail and secret; tests and benchmarks
    # point it at a temporary folder.
    instance = (config or {}).get("INSTANCE_PATH") or os.environ.get("FORUM_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance and os.path.abspath(instance),
                instance_relative_config=True, template_folder="../templates",
                static_folder="../static")
    from forum import config as settings

    settings.load(app, config)
    register_extensions(app)
    register_database(app)
    register_i18n(app)
    register_blueprints(app)
    register_templates(app)
    register_errors(app)
    register_security_headers(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extension objects of forum.extensions."""
    from forum.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message_category = "info"

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import abort, flash, redirect, request, url_for
        from flask_babel import gettext

        from forum.errors import wants_json

        if wants_json():
            abort(401, "Sign in first.")
        flash(gettext("Please sign in to do that."), "info")
        return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")
                                if request.method == "GET" else None))

    @login_manager.user_loader
    def load_user(user_id: str):
        from forum.accounts.models import User

        return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def register_database(app: Flask) -> None:
    """SQLite pragmas and write-transaction behaviour; see forum.dbtuning."""
    from forum import dbtuning

    dbtuning.install()


def register_i18n(app: Flask) -> None:
    """Flask-Babel with the person's language, a cookie, then Accept-Language."""
    from forum import i18n

    i18n.init_app(app)


def register_blueprints(app: Flask) -> None:
    """The web areas."""
    from forum.accounts.views import bp as accounts
    from forum.ideas.views import bp as ideas

    app.register_blueprint(ideas)
    app.register_blueprint(accounts)


def register_templates(app: Flask) -> None:
    """Filters and globals the templates share."""
    from forum import templating

    templating.init_app(app)


def register_errors(app: Flask) -> None:
    """HTML error pages, and the JSON error shape for API clients."""
    from forum.errors import register_error_handlers

    register_error_handlers(app)


def register_security_headers(app: Flask) -> None:
    """A strict CSP (no inline script) and the usual hardening headers on every response;
    oversized bodies and raw bytes in query strings dealt with first; trusted proxies'
    forwarded addresses believed (FORUM_TRUSTED_PROXIES)."""
    from forum.security import (
        add_security_headers,
        percent_encode_raw_query_bytes,
        refuse_oversized_bodies,
    )

    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.wsgi_app = percent_encode_raw_query_bytes(app.wsgi_app)
    app.before_request(refuse_oversized_bodies)
    app.after_request(add_security_headers)


def register_cli(app: Flask) -> None:
    """``flask forum …`` commands."""
    from forum.cli import forum_group

    app.cli.add_command(forum_group)
