"""Response headers that keep the pages inert if something slips through escaping, and the
guards that turn malformed requests (too large, raw bytes in the query) into clean answers."""

from flask import Response, abort, current_app, request
from flask_babel import gettext

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        # Served over HTTPS (FORUM_BASE_URL): browsers must never fall back to plain HTTP,
        # where the session cookie could be read or a page altered on the way.
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def body_limit(max_bytes: int):
    """Let one view accept bodies larger than ``MAX_CONTENT_LENGTH`` (e.g. a CSV import)."""
    def mark(view):
        view.max_content_length = max_bytes
        return view
    return mark


def apply_body_limit() -> None:
    """Set the view's own limit before anything reads the body (NUL check, forms, CSRF)."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_content_length", None)
    if limit:
        request.max_content_length = limit


def refuse_nul_bytes() -> None:
    """Nobody writes a NUL character, and PostgreSQL cannot store or even compare one (the
    driver raises): a request carrying one is malformed, whatever the database."""
    fields = [*request.args.lists(), *request.form.lists()]
    if ("\x00" in request.path
            or any("\x00" in key or any("\x00" in v for v in values) for key, values in fields)
            or (request.is_json and _has_nul(request.get_json(silent=True)))):
        abort(400, gettext("The request contains a NUL character."))


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_oversized_bodies() -> None:
    """413 before anything runs, whether or not the route reads its body: an answer that
    depended on the route (a redirect here, 413 there) would tell a prober which is which.
    Bodies without a Content-Length are cut by Werkzeug at the same limit when read."""
    limit = request.max_content_length  # the view's own limit (body_limit) or the site's
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def percent_encode_raw_query_bytes(wsgi_app):
    """WSGI middleware: a query string with raw non-ASCII bytes (browsers percent-encode them;
    hand-made requests need not) would make Werkzeug's strict UTF-8 decoding raise, a 500.
    Percent-encoding them gives the same text a browser would have sent."""

    def guarded(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            raw = query.encode("latin-1", "replace")
            environ["QUERY_STRING"] = "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in raw)
        return wsgi_app(environ, start_response)

    return guarded
