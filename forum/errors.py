"""One root domain error, and the HTML/JSON error handlers.

Services raise these; views turn them into a form error, a flash, an error page or the JSON
error shape of CONTRACT.md (``{"error", "message", "fields"?}``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, jsonify, render_template, request
from flask_babel import format_timedelta, gettext, ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """Something a person asked for that the rules refuse. Carries (field, reason) pairs."""

    status_code = 422
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        # Messages may be lazy translations: they become text here, in the language of the
        # request (or the site's default in CLI commands) that raised them.
        message = str(message)
        super().__init__(message)
        self.message = message
        self.fields = {name: str(reason) for name, reason in (fields or {}).items()}

    def __str__(self) -> str:
        return str(self.message)


class ValidationError(DomainError):
    status_code = 422
    code = "invalid"


class NotAllowed(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


def wants_json() -> bool:
    """API and incoming-webhook paths always answer JSON; elsewhere follow the Accept
    header."""
    if request.path.startswith(("/api/", "/hooks/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict:
    body = {"error": code, "message": str(message)}
    if fields:
        body["fields"] = {name: str(reason) for name, reason in fields.items()}
    return body


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


def _limit_in_words(error: HTTPException) -> str:
    """Flask-Limiter says "10 per 1 hour" in English; the reader gets it in their language."""
    item = getattr(getattr(error, "limit", None), "limit", None)
    if item is None:
        return str(error.description)
    return ngettext("%(num)d attempt per %(period)s", "%(num)d attempts per %(period)s",
                    item.amount, period=format_timedelta(timedelta(seconds=item.get_expiry()),
                                                         threshold=1))


def register_error_handlers(app: Flask) -> None:
    """HTML pages for people, the JSON error shape for API clients."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if wants_json():
            body = error_body(error.code, error.message, error.fields)
            return jsonify(body), error.status_code
        return render_template(
            "errors/error.html", status=error.status_code, message=error.message
        ), error.status_code

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        code = _HTTP_CODES.get(status, "error")
        if status == 429:
            error.description = gettext(
                "Too many attempts from your connection. Please wait a while and try again "
                "(limit: %(limit)s).", limit=_limit_in_words(error))
        if wants_json():
            response = jsonify(error_body(code, error.description or error.name))
            response.status_code = status
            if status == 429 and error.get_response().headers.get("Retry-After"):
                response.headers["Retry-After"] = error.get_response().headers["Retry-After"]
            if status == 405 and getattr(error, "valid_methods", None):
                response.headers["Allow"] = ", ".join(error.valid_methods)
            return response
        response = error.get_response()
        # Werkzeug's stock descriptions are English; people read our translated texts unless
        # the code that raised the error wrote a specific message.
        specific = error.description != type(error).description and not isinstance(
            error, CSRFError)
        response.set_data(render_template(
            "errors/error.html", status=status,
            message=error.description if specific else None,
            stale_form=isinstance(error, CSRFError),
        ))
        response.content_type = "text/html; charset=utf-8"
        return response

    @app.errorhandler(500)
    def server_error(error):
        from forum.extensions import db

        db.session.rollback()
        if wants_json():
            message = gettext("Something went wrong on our side. Please try again in a moment.")
            return jsonify(error_body("server_error", message)), 500
        return render_template("errors/error.html", status=500, message=None), 500
