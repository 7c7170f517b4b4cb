"""Small helpers shared by the HTML views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from flask import flash, request
from sqlalchemy import Select, func, select

from forum.errors import DomainError
from forum.extensions import db

T = TypeVar("T")


def safe_next(default: str) -> str:
    """Only same-site paths: an open redirect after sign-in is a phishing tool."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc \
            and "\\" not in target:
        return target
    return default


def show_on_form(form, error: DomainError) -> None:
    """Put a service's (field, reason) pairs beside the fields; anything else as a flash."""
    placed = False
    for field, reason in error.fields.items():
        if field in form:
            form[field].errors = [*form[field].errors, reason]
            placed = True
    if not placed:
        flash(str(error), "error")


def refusal(error: DomainError) -> str:
    """The message with the reasons it does not already say, for a flash."""
    return error.message + "".join(f" {reason}" for reason in error.fields.values()
                                   if reason not in error.message)


def attempt(operation: Callable[[], T], form=None) -> T | None:
    """Run a view's one service call. On a refusal, undo everything it did and say why
    (beside the form's fields, or as a flash) and return None; the caller then shows the form
    or page again. Services called this way return the thing they made or changed."""
    try:
        return operation()
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            show_on_form(form, error)
        else:
            flash(refusal(error), "error")
        return None


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    # True when counting stopped at a limit: there are more than ``total`` rows.
    more: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number(name: str = "page") -> int:
    try:
        return max(1, min(int(request.args.get(name, 1)), 10_000))
    except ValueError:
        return 1


def paginate(query: Select, page: int, per_page: int, *, count_up_to: int | None = None
             ) -> Page:
    """One page of ``query`` and the number of rows.

    ``count_up_to`` stops counting there: counting 100,000 ideas costs more than showing 20,
    and grows with the site; a page that says "of more than N" stays as cheap at any size.
    """
    counted = query.order_by(None).with_only_columns(*query.selected_columns[:1])
    if count_up_to is not None:
        counted = counted.limit(count_up_to + 1)
    total = db.session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    more = count_up_to is not None and total > count_up_to
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, total=min(total, count_up_to) if more else total, page=page,
                per_page=per_page, more=more)
