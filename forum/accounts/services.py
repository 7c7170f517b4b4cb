"""Operations on accounts. They flush and never commit."""

from __future__ import annotations

import functools
import hashlib

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from werkzeug.security import generate_password_hash

from forum import signals, tokens
from forum.accounts.models import Role, User, hashable
from forum.db import utcnow
from forum.errors import Conflict, NotFound, ValidationError
from forum.extensions import db
from forum.text import clean_input

PASSWORD_MIN = 8
NAME_MAX = 80
RESET_MAX_AGE = 3600
CONFIRM_MAX_AGE = 7 * 86400


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


def signed_in_person(user_id: int) -> User | None:
    """The person a session names, in the request's session. Most of a member's page views
    would read their row (0.4 ms of the 2.2 ms of CPU of a stored board page): on SQLite the
    row's values are remembered until the database changes (pagecache.until_changed), and the
    person is put together from them without a query, as if just loaded. A request that
    writes reads them afresh: its transaction begins by queueing for the write lock, and a ban
    or a change of role committed while it waited must stop it. (A vote reads first,
    dbtuning.reads_first, and reads the voter's ban again under the lock: the one thing about
    the person a vote depends on.)"""
    from forum import pagecache
    from forum.dbtuning import may_write

    found = db.session.identity_map.get(identity_key(User, user_id))
    if found is not None:  # loaded earlier in this request
        return found
    if may_write():
        return db.session.get(User, user_id)
    columns = pagecache.until_changed("person", (user_id,), lambda: _columns_of(user_id))
    if columns is None:
        return None
    person = User.__mapper__.class_manager.new_instance()
    for name, value in columns:
        set_committed_value(person, name, value)
    make_transient_to_detached(person)
    db.session.add(person)  # persistent, unchanged: no statement until it is changed
    return person


def _columns_of(user_id: int) -> tuple[tuple[str, object], ...] | None:
    # A statement of its own, always read from the database: the session's identity map may
    # hold an instance older than the state the value is kept for, or one changed and not
    # flushed. Every column's value is immutable (text, numbers, enums, datetimes): the tuple
    # is shared by the requests that reuse it.
    keys, statement = _person_columns()
    with db.session.no_autoflush:
        row = db.session.execute(statement, {"user_id": user_id}).first()
    return None if row is None else tuple(zip(keys, row, strict=True))


@functools.cache
def _person_columns() -> tuple[tuple[str, ...], Select]:
    """The names of a person's attributes and the statement that reads them, built once (a
    statement built anew and its cache key cost about 0.15 ms: a signed-in page view reads
    the person whenever the database has changed)."""
    attrs = User.__mapper__.column_attrs
    return tuple(attr.key for attr in attrs), select(*(attr.columns[0] for attr in attrs)).where(
        User.id == bindparam("user_id", type_=User.__table__.c.id.type))


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == account_key(email)))


def register(*, email: str, name: str, password: str | None, role: Role = Role.CUSTOMER,
             locale: str | None = None, confirmed: bool = True) -> User:
    """Create an account. Accounts made by operators (CLI, staff, imports) count as confirmed;
    people who sign up themselves confirm their address by email (see ``sign_up``)."""
    address = normalise_email(email)
    display = " ".join(clean_input(name or "").split()) or address.split("@", 1)[0]
    if len(display) > NAME_MAX:
        raise ValidationError(_l("The name is too long."),
                              {"name": _l("Use at most %(max)d characters.", max=NAME_MAX)})
    if password is not None and len(password) < PASSWORD_MIN:
        raise ValidationError(_l("The password is too short."),
                              {"password": _l("Use at least %(min)d characters.",
                                              min=PASSWORD_MIN)})
    taken = Conflict(_l("An account with that email already exists."),
                     {"email": _l("An account with that email already exists.")})
    if find_by_email(address) is not None:
        raise taken
    user = User(email=address, name=display, role=role, locale=locale,
                email_confirmed_at=utcnow() if confirmed else None)
    if password is not None:
        user.set_password(password, hash_method())
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        # The same address signed up in a concurrent request (two clicks, two tabs).
        raise taken from None
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


def sign_up(*, email: str, name: str, password: str, locale: str | None = None) -> User:
    """Self-service sign-up: the account works at once; the address is confirmed by email."""
    user = register(email=email, name=name, password=password, locale=locale, confirmed=False)
    signals.user_signed_up.send(user)
    return user


def request_confirmation(user: User) -> None:
    """Another confirmation link, for someone whose first one expired or went missing."""
    if user.email_confirmed_at is None:
        signals.confirmation_requested.send(user)


def confirm_token(user: User) -> str:
    return tokens.make("confirm-email", {"u": user.id, "e": user.email})


def confirm_email(token: str) -> User:
    payload = tokens.read("confirm-email", token, max_age=CONFIRM_MAX_AGE)
    user = db.session.get(User, payload.get("u"))
    if user is None or user.email != payload.get("e"):
        raise NotFound(_l("This link belongs to an address that is no longer on an account."))
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account. The caller answers the same either
    way, so the form does not tell who has an account here."""
    user = find_by_email(email)
    if user is not None and user.is_active:
        signals.password_reset_requested.send(user)


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    """Single use: it names the current password, so setting a new one voids it."""
    return tokens.make("password-reset", {"u": user.id, "p": _password_fingerprint(user)})


def user_for_reset(token: str) -> User:
    payload = tokens.read("password-reset", token, max_age=RESET_MAX_AGE)
    user = db.session.get(User, payload.get("u"))
    if user is None or not user.is_active or payload.get("p") != _password_fingerprint(user):
        raise tokens.InvalidLink("This link was already used or is no longer valid. "
                                 "Ask for a new one.")
    return user


def reset_password(token: str, password: str) -> User:
    user = user_for_reset(token)
    if len(password or "") < PASSWORD_MIN:
        raise ValidationError(_l("The password is too short."),
                              {"password": _l("Use at least %(min)d characters.",
                                              min=PASSWORD_MIN)})
    user.set_password(password, hash_method())
    # The link proved the address is theirs.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.flush()
    return user
