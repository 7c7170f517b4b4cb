"""Language choice: the person's setting, then the switcher's cookie, then Accept-Language,
then FORUM_DEFAULT_LOCALE."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, has_request_context, redirect, request, url_for
from flask_babel import get_locale, get_timezone, get_translations
from flask_login import current_user

from forum.config import LOCALES
from forum.extensions import babel, db
from forum.web import safe_next

COOKIE = "locale"
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "it": "Italiano"}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():  # CLI commands and workers: the site's language
        return current_app.config["DEFAULT_LOCALE"]
    if speaks_english_only():
        return "en"
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    cookie = request.cookies.get(COOKIE)
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(LOCALES) or current_app.config["DEFAULT_LOCALE"]


def speaks_english_only() -> bool:
    """The JSON API answers in English whatever the caller's language: its messages sit next
    to pydantic's field reasons and the OpenAPI text, and are read by developers and in logs.
    Its readable reference (api.docs) is a page for people like any other."""
    return request.path.startswith("/api/") and request.endpoint != "api.docs"


@bp.post("/language")
def choose_language():
    from forum.ideas.forms import EmptyForm

    locale = request.form.get("locale", "")
    response = redirect(safe_next(url_for("ideas.index")))
    if locale in LOCALES and EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
        response.set_cookie(COOKIE, locale, max_age=365 * 86400, samesite="Lax",
                            httponly=True,
                            # Behind a TLS proxy the request itself looks like plain HTTP.
                            secure=current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure)
    return response


def _translations():
    """The catalogue of the current locale, looked up once per request. Flask-Babel resolves
    the context, locale and domain again on every call (3.4 µs, and a list page translates a
    hundred and fifty strings), so this reads its context's locale directly and keeps the
    catalogue beside it. Keyed by the locale object, so ``force_locale`` (emails in each
    recipient's language) is obeyed."""
    context = getattr(g, "_flask_babel", None)
    locale = getattr(context, "babel_locale", None)
    if locale is None:  # not chosen yet in this context: Flask-Babel chooses it
        locale = get_locale()
        context = getattr(g, "_flask_babel", None)
    cached = getattr(context, "forum_translations", None)
    if cached is None or cached[0] is not locale:
        cached = (locale, get_translations())
        if context is not None:
            context.forum_translations = cached
    return cached[1]


def reader_keys() -> tuple[str, str]:
    """The reader's locale and time zone as strings, for caches of formatted dates: resolved
    once per request (Flask-Babel resolves both and ``str(locale)`` rebuilds the identifier on
    every call, 5 µs for each date of a list). Keyed by the objects, as ``_translations``."""
    context = getattr(g, "_flask_babel", None)
    locale = getattr(context, "babel_locale", None)
    zone = getattr(context, "babel_tzinfo", None)
    if locale is None or zone is None:
        locale, zone = get_locale(), get_timezone()
        context = getattr(g, "_flask_babel", None)
    cached = getattr(context, "forum_reader", None)
    if cached is None or cached[0] is not locale or cached[1] is not zone:
        cached = (locale, zone, str(locale), str(zone))
        if context is not None:
            context.forum_reader = cached
    return cached[2], cached[3]


def translated(message: str) -> str:
    """``gettext`` over the request's cached catalogue, for Python code that renders HTML."""
    return _translations().ugettext(message)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    # The same callables Flask-Babel installs, over the catalogue cached for the request.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.register_blueprint(bp)
