"""Response headers that keep the pages inert if something slips through escaping, and input
no page can take."""

from flask import Response, abort, current_app, request

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
        abort(400, "The request contains a NUL character.")


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
