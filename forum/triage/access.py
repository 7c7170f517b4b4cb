"""View decorators for the team's pages: anonymous people are sent to sign in, customers get
403, and admin pages refuse staff too."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required


def staff_required(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403, _("Only the team can open this page."))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, _("Only administrators can open this page."))
        return view(*args, **kwargs)

    return wrapped
