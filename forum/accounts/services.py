"""Operations on accounts. They flush and never commit."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from forum.accounts.models import Role, User, hashable
from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.text import clean_input

PASSWORD_MIN = 8
NAME_MAX = 80


def hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def normalise_email(email: str) -> str:
    try:
        # No DNS look-up: sign-up must not depend on the network, and tests run offline.
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationError(_l("That email address is not valid."),
                              {"email": _l("Enter an address like name@example.com.")}) from None


def account_key(email: str) -> str:
    """The address as stored, for any way of writing it ("Anna@Example.COM", an IDNA domain
    as xn--… or in Unicode); text that is no address at all is only trimmed and lower-cased."""
    try:
        return normalise_email(email)
    except ValidationError:
        return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == account_key(email)))


def register(*, email: str, name: str, password: str | None, role: Role = Role.CUSTOMER,
             locale: str | None = None) -> User:
    address = normalise_email(email)
    display = " ".join(clean_input(name or "").split()) or address.split("@", 1)[0]
    if len(display) > NAME_MAX:
        raise ValidationError(_l("The name is too long."),
                              {"name": _l("Use at most %(max)d characters.", max=NAME_MAX)})
    if password is not None and len(password) < PASSWORD_MIN:
        raise ValidationError(_l("The password is too short."),
                              {"password": _l("Use at least %(min)d characters.",
                                              min=PASSWORD_MIN)})
    if find_by_email(address) is not None:
        raise Conflict(_l("An account with that email already exists."),
                       {"email": _l("An account with that email already exists.")})
    user = User(email=address, name=display, role=role, locale=locale)
    if password is not None:
        user.set_password(password, hash_method())
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    if user is None:
        # Hash anyway so that timing does not tell which addresses have accounts.
        generate_password_hash(hashable(password), method=hash_method())
        return None
    if not user.check_password(password):
        return None
    return user
