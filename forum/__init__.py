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
    register_proxies(app)
    register_extensions(app)
    register_database(app)
    register_i18n(app)
    register_receivers(app)
    register_search(app)
    register_blueprints(app)
    register_api(app)
    register_templates(app)
    register_errors(app)
    register_security_headers(app)
    register_cli(app)
    return app


def register_proxies(app: Flask) -> None:
    """Behind FORUM_TRUSTED_PROXIES load balancers, see the client's address and scheme."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the address (rate limits, logs) and the scheme; the host comes from the request
        # as the balancer passes it on, and links in emails from FORUM_BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


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
            abort(401, gettext("Please sign in to do that."))
        flash(gettext("Please sign in to do that."), "info")
        return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")
                                if request.method == "GET" else None))

    @login_manager.user_loader
    def load_user(user_id: str):
        from forum.accounts.services import signed_in_person
        from forum.api import auth

        if auth.ignores_session():
            # An API call with an Authorization header is whoever the token names.
            return auth.load_user_from_request(None)
        return signed_in_person(int(user_id)) if user_id.isdigit() else None


def register_database(app: Flask) -> None:
    """SQLite pragmas and write-transaction behaviour; see forum.dbtuning."""
    from forum import dbtuning, pagecache

    dbtuning.install()
    pagecache.install()


def register_i18n(app: Flask) -> None:
    """Flask-Babel with the person's language, a cookie, then Accept-Language."""
    from forum import i18n

    i18n.init_app(app)


def register_receivers(app: Flask) -> None:
    """Modules that react to forum.signals (notifications, changelog, webhooks)."""
    from forum.changelog import services as changelog
    from forum.notifications import receivers as notifications
    from forum.webhooks import receivers as webhooks

    notifications.connect()
    changelog.connect()
    webhooks.connect()


def register_search(app: Flask) -> None:
    """Index changed ideas after each commit; the backend itself opens on first use."""
    from forum.search import indexing

    indexing.install()


def register_blueprints(app: Flask) -> None:
    """The web areas. ``<int:…>`` in their URLs only matches numbers an id column can hold,
    so a huge number is a 404 rather than an overflow in the database driver."""
    from werkzeug.routing import IntegerConverter

    from forum.ideas.services import MAX_ID

    class IdConverter(IntegerConverter):
        def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
            super().__init__(url_map, fixed_digits, min, max, signed)

    app.url_map.converters["int"] = IdConverter
    from forum.accounts.views import bp as accounts
    from forum.changelog.views import bp as changelog
    from forum.ideas.merge_views import bp as merging
    from forum.ideas.status_views import bp as statuses
    from forum.ideas.views import bp as ideas
    from forum.insights.views import bp as insights
    from forum.moderation.views import bp as moderation
    from forum.notifications.views import bp as notifications
    from forum.search.views import bp as search
    from forum.triage.views import bp as triage
    from forum.webhooks.views import bp as webhooks

    app.register_blueprint(ideas)
    app.register_blueprint(accounts)
    app.register_blueprint(search)
    app.register_blueprint(merging)
    app.register_blueprint(statuses)
    app.register_blueprint(notifications)
    app.register_blueprint(changelog)
    app.register_blueprint(triage)
    app.register_blueprint(moderation)
    app.register_blueprint(insights)
    app.register_blueprint(webhooks)


def register_api(app: Flask) -> None:
    """The JSON API at /api/v1: bearer tokens, CSRF header for sessions, write rate limits."""
    from forum import api

    api.init_app(app)


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
    requests carrying NUL characters refused; oversized bodies and raw bytes in query strings
    dealt with first."""
    from forum.security import (
        add_security_headers,
        apply_body_limit,
        percent_encode_raw_query_bytes,
        refuse_nul_bytes,
        refuse_oversized_bodies,
    )

    app.wsgi_app = percent_encode_raw_query_bytes(app.wsgi_app)
    app.before_request(apply_body_limit)  # first: the view's own limit, before anything reads
    app.before_request(refuse_oversized_bodies)
    app.before_request(refuse_nul_bytes)
    app.after_request(add_security_headers)


def register_cli(app: Flask) -> None:
    """``flask forum …`` commands."""
    from forum.cli import forum_group

    app.cli.add_command(forum_group)
