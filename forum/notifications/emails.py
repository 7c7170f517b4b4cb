"""Emails: one folder of templates per message and one function that only returns its context.

``templates/email/<name>/subject.txt``, ``body.txt`` and ``body.html`` are rendered at delivery
time in the recipient's language. Notification emails carry an unsubscribe link and the
``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers (RFC 8058).
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from email import message_from_bytes, quoprimime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from forum import tokens
from forum.config import LOCALES
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Comment, Idea, StatusChange
from forum.notifications.models import Notification, OutboxMessage
from forum.text import excerpt

Context = Callable[[OutboxMessage], dict[str, Any]]
CONTEXTS: dict[str, Context] = {}
# Messages about ideas a person follows; each can be stopped with one click.
NOTIFICATIONS = {"status_changed", "shipped", "comment", "merged", "digest"}
SATISFACTION_MAX_AGE = 180 * 86400

# What the messages of one delivery batch share (the changelog entry of a shipped idea, say),
# computed once per batch; None outside a batch, where nothing is kept.
_shared: ContextVar[dict | None] = ContextVar("email_batch", default=None)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Render several messages that may share what they are about (the deliverer's batch)."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared(key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, once per batch for each ``key``."""
    kept = _shared.get()
    if kept is None:
        return compute()
    if key not in kept:
        kept[key] = compute()
    return kept[key]


def _get(model: type, key: int | None) -> Any:
    """``db.session.get``, kept for the batch: the session holds what it loaded only weakly,
    and the next message about the same idea would read it again."""
    return shared((model.__name__, key), lambda: db.session.get(model, key))


def email(name: str) -> Callable[[Context], Context]:
    def register(function: Context) -> Context:
        CONTEXTS[name] = function
        return function

    return register


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under FORUM_BASE_URL, with or without a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def idea_url(idea: Idea) -> str:
    return external_url("ideas.show", idea_id=idea.id)


def satisfaction_links(user_id: int, idea_id: int) -> dict[str, str]:
    token = tokens.make("satisfaction", {"u": user_id, "i": idea_id})
    return {answer: external_url("changelog.answer", token=token, answer=answer)
            for answer in ("yes", "partly", "no")}


def unsubscribe_url(user_id: int, idea_id: int | None) -> str:
    token = tokens.make("unsubscribe", {"u": user_id, "i": idea_id})
    return external_url("notifications.unsubscribe", token=token)


# --- contexts -----------------------------------------------------------------------------


def _change(message: OutboxMessage) -> StatusChange:
    return _get(StatusChange, message.params["status_change_id"])


@email("status_changed")
def status_changed(message: OutboxMessage) -> dict[str, Any]:
    change = _change(message)
    idea = _get(Idea, message.idea_id)
    return {"idea": idea, "change": change, "idea_url": idea_url(idea)}


@email("shipped")
def shipped(message: OutboxMessage) -> dict[str, Any]:
    from forum.changelog import services as changelog

    change = _change(message)
    idea = _get(Idea, message.idea_id)
    entry = shared(("changelog entry", idea.id), lambda: changelog.entry_for(idea))
    return {
        "idea": idea, "change": change, "idea_url": idea_url(idea), "entry": entry,
        "entry_url": external_url("changelog.index") + f"#entry-{entry.id}" if entry else None,
        "answers": satisfaction_links(message.user_id, idea.id),
    }


@email("comment")
def comment(message: OutboxMessage) -> dict[str, Any]:
    note = _get(Comment, message.params["comment_id"])
    idea = _get(Idea, message.idea_id)
    return {"idea": idea, "comment": note, "text": excerpt(note.body, 600),
            "comment_url": idea_url(idea) + f"#comment-{note.id}", "idea_url": idea_url(idea)}


@email("merged")
def merged(message: OutboxMessage) -> dict[str, Any]:
    canonical = _get(Idea, message.idea_id)
    merged_idea = _get(Idea, message.params["merged_idea_id"])
    return {"idea": canonical, "merged": merged_idea, "idea_url": idea_url(canonical)}


@email("vote_added")
def vote_added(message: OutboxMessage) -> dict[str, Any]:
    """Staff counted this person's vote; an account made for them has no password yet, so
    the email carries the way to choose one (the reset link, and the form for a fresh one)."""
    from forum.accounts.models import User
    from forum.accounts.services import RESET_MAX_AGE, reset_token

    idea = _get(Idea, message.idea_id)
    user = message.user
    claim = None if user.password_hash else {
        "url": external_url("accounts.reset_password", token=reset_token(user)),
        "minutes": RESET_MAX_AGE // 60, "again_url": external_url("accounts.forgot_password")}
    return {"idea": idea, "idea_url": idea_url(idea),
            "by": db.session.get(User, message.params["by_id"]), "claim": claim}


@email("password_reset")
def password_reset(message: OutboxMessage) -> dict[str, Any]:
    from forum.accounts.services import RESET_MAX_AGE, reset_token

    return {"reset_url": external_url("accounts.reset_password",
                                      token=reset_token(message.user)),
            "minutes": RESET_MAX_AGE // 60}


@email("confirm_email")
def confirm_email(message: OutboxMessage) -> dict[str, Any]:
    from forum.accounts.services import CONFIRM_MAX_AGE, confirm_token

    return {"confirm_url": external_url("accounts.confirm_email",
                                        token=confirm_token(message.user)),
            "days": CONFIRM_MAX_AGE // 86400}


def _comment_shown(note: Comment | None) -> bool:
    return note is None or (note.hidden_at is None and not note.is_internal
                            and not note.author.is_banned)


def _notice_shown(notice: Notification, user) -> bool:
    return ideas.can_see(notice.idea, user) and _comment_shown(notice.comment) and (
        notice.merged_idea is None or ideas.can_see(notice.merged_idea, user))


def _digest_notices(message: OutboxMessage) -> list[Notification]:
    notices = db.session.scalars(
        select(Notification).where(Notification.id.in_(message.params["notification_ids"]))
        .order_by(Notification.idea_id, Notification.created_at)).all()
    return [n for n in notices if _notice_shown(n, message.user)]


def withheld(message: OutboxMessage) -> bool:
    """Whether a notification must not go out because its recipient can no longer see what it
    is about: the idea was hidden or moved to a team-only board, the comment hidden, or the
    recipient banned since the outbox row was written. Checked just before sending."""
    user = message.user
    if message.template not in {*NOTIFICATIONS, "vote_added"} or user is None:
        return False
    if user.is_banned:
        return True
    if message.template == "digest":
        return not _digest_notices(message)
    shown = ideas.can_see(_get(Idea, message.idea_id), user)
    if message.template == "merged":
        shown = shown and ideas.can_see(_get(Idea, message.params["merged_idea_id"]),
                                        user)
    if message.template == "comment":
        shown = shown and _comment_shown(_get(Comment, message.params["comment_id"]))
    return not shown


@email("digest")
def digest(message: OutboxMessage) -> dict[str, Any]:
    notices = _digest_notices(message)
    by_idea: dict[int, dict[str, Any]] = {}
    for notice in notices:
        entry = by_idea.setdefault(notice.idea_id, {"idea": notice.idea, "notices": [],
                                                    "url": idea_url(notice.idea)})
        entry["notices"].append(notice)
    return {"ideas": list(by_idea.values()), "count": len(notices)}


@email("test")
def test(message: OutboxMessage) -> dict[str, Any]:
    return {"by": message.params.get("by", ""), "sent_at": message.created_at}


# --- rendering ----------------------------------------------------------------------------


def message_id(message: OutboxMessage) -> str:
    """Stable for the row across attempts, unguessable across sites."""
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    mac = hmac.new(current_app.secret_key.encode(), f"outbox-{message.id}".encode(),
                   hashlib.sha256).hexdigest()[:16]
    return f"<forum-{message.id}-{mac}@{domain}>"


def language(message: OutboxMessage) -> str:
    """The recipient's language; for an address without an account (a test message), the
    language of the person who sent it; else the site's."""
    user = message.user
    for choice in (user.locale if user is not None else None, message.params.get("locale")):
        if choice in LOCALES:
            return choice
    return current_app.config["DEFAULT_LOCALE"]


@dataclass(frozen=True)
class Outgoing:
    """A rendered email as it goes on the wire."""

    to: str
    from_address: str  # the envelope sender too
    subject: str  # as the reader sees it (the send log shows it)
    message_id: str
    data: bytes  # the whole message: headers and MIME parts, 7-bit, CRLF line ends

    def parsed(self) -> EmailMessage:
        """The message as a reader's program sees it (the console and memory senders)."""
        return message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


# An encoded word holds at most 36 bytes of UTF-8 (48 characters of base64, 60 with its
# markers), so that even "Subject: " and the first word stay within RFC 2047's 76 characters.
_WORD_BYTES = 36
_QP_LINE = 76


def _header(value: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words (base64, cut between
    characters), one per folded line."""
    if value.isascii():
        return value
    words, chunk, size = [], [], 0
    for char in value:
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    return "\r\n ".join(
        f"=?utf-8?b?{binascii.b2a_base64(word.encode('utf-8'), newline=False).decode()}?="
        for word in words)


def _quoted_printable(text: str) -> bytes:
    """``text`` in UTF-8 as quoted-printable: 7-bit lines of at most 76 characters, CRLF."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, istext=True)
    if any(len(line) > _QP_LINE for line in encoded.split(b"\n")):
        # binascii wraps at 76 and then writes a space or tab before a line end as "=20",
        # one or two characters past it (a Markdown hard break at the end of a long line of
        # a staff note): the email package's slower encoder, which wraps after encoding.
        encoded = quoprimime.body_encode(data.decode("latin-1"), _QP_LINE, "\n").encode("ascii")
    return encoded.replace(b"\n", b"\r\n")


def _mime(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """A multipart/alternative message of a text and an HTML part, both quoted-printable,
    lines ending in CRLF as SMTP sends them; ``headers`` are (name, value as the reader sees
    it). ASCII headers are not folded: they may run to
    998 characters (RFC 5322), and a long List-Unsubscribe URL must stay one token, or mail
    clients cannot use it.

    Written out here rather than with the ``email`` package: its generator folds every
    header again through ``Header`` and encodes bodies in pure Python, 0.9 ms of the 1.7 ms
    a message took to render, which a shipped idea pays once per voter. The boundary holds
    "=_", which quoted-printable never writes (a literal "=" is always followed by two hex
    digits or a line end), so no part can contain it.
    """
    boundary = f"=_forum_{secrets.token_hex(12)}"
    head = [f"Content-Type: multipart/alternative; boundary=\"{boundary}\"", "MIME-Version: 1.0"]
    for name, value in headers:
        if "\r" in value or "\n" in value:
            # Nothing the forum writes can hold a line break (titles and names are cleaned,
            # subjects joined on spaces), but a header must never be able to start another.
            raise ValueError(f"a line break in the {name} header")
        # ASCII as it is; anything else (a subject, or a setting such as a site address on a
        # Unicode domain) as encoded words, folded here.
        head.append(f"{name}: {_header(value)}")
    parts = [("\r\n".join(head) + "\r\n\r\n").encode("ascii")]
    for subtype, body in (("plain", text), ("html", html)):
        parts.append((f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii"))
        parts.append(_quoted_printable(body) + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(parts)


@functools.lru_cache(maxsize=8)
def _from_header(name: str, address: str) -> str:
    """The site's name and address (the same for every message: made once)."""
    return formataddr((name, address))


def render(message: OutboxMessage) -> Outgoing:
    config = current_app.config
    user = message.user
    with force_locale(language(message)):
        context = CONTEXTS[message.template](message)
        context.update(site_name=config["SITE_NAME"], base_url=config["BASE_URL"],
                       recipient=user, preferences_url=external_url("notifications.preferences"))
        unsubscribe = None
        if message.template in NOTIFICATIONS and user is not None:
            scope = None if message.template == "digest" else message.idea_id
            unsubscribe = unsubscribe_url(user.id, scope)
        context["unsubscribe_url"] = unsubscribe
        folder = f"email/{message.template}"
        subject = " ".join(render_template(f"{folder}/subject.txt", **context).split())
        text = render_template(f"{folder}/body.txt", **context)
        html = render_template(f"{folder}/body.html", **context)
    sender = parseaddr(config["MAIL_FROM"])[1]
    headers = [("Subject", subject),
               ("From", _from_header(config["SITE_NAME"], sender)),
               ("To", message.to_address),
               ("Date", format_datetime(utcnow())),
               ("Message-ID", (ident := message_id(message))),
               ("Auto-Submitted", "auto-generated")]
    if unsubscribe:
        headers += [("List-Unsubscribe", f"<{unsubscribe}>"),
                    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
    return Outgoing(to=message.to_address, from_address=sender, subject=subject,
                    message_id=ident, data=_mime(headers, text, html))
