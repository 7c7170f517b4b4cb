"""Language choice: the person's setting, then the switcher's cookie, then Accept-Language,
then FORUM_DEFAULT_LOCALE."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, has_request_context, redirect, request, url_for
from flask_babel import get_locale, get_translations
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
    the context, locale and domain again on every call, and a list page translates more than a
    hundred strings. Keyed by the locale object, so ``force_locale`` (emails in each
    recipient's language) is obeyed."""
    store = request if has_request_context() else g
    locale = get_locale()
    cached = getattr(store, "_forum_translations", None)
    if cached is None or cached[0] is not locale:
        cached = (locale, get_translations())
        store._forum_translations = cached
    return cached[1]


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
