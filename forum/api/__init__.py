"""The JSON API (``/api/v1``): calls, schemas, the OpenAPI document and its readable page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from forum.api import auth
    from forum.api.views import bp
    from forum.extensions import csrf, login_manager

    # Token requests carry no cookie to forge; session writes are checked in auth.authenticate
    # through the X-CSRFToken header instead of the form field.
    csrf.exempt(bp)
    login_manager.request_loader(auth.load_user_from_request)
    app.register_blueprint(bp)


def declared_calls():
    """Every API call as declared with ``forum.api.routing.endpoint``."""
    from forum.api import views  # noqa: F401  importing the views declares the calls
    from forum.api.routing import ENDPOINTS

    return list(ENDPOINTS)
