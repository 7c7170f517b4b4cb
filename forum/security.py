"""Response headers that keep the pages inert if something slips through escaping."""

from flask import Response, current_app

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
