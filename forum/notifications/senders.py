"""Mail senders behind one interface, chosen by ``FORUM_MAIL_URL``.

- ``smtp://user:pass@host:port`` (``?starttls=1`` to upgrade), ``smtps://`` for implicit TLS
- ``file:///path/to/dir``: one ``.eml`` file per message (the default, in ``instance/mail``)
- ``console``: printed to standard output
- ``memory://`` (or ``memory://name``): kept in this process, in ``MEMORY[name]``

``send`` calls ``handing_over()`` just before the point after which the message may have
reached its destination (for SMTP, once the server has accepted the recipients and right
before the message data). The deliverer records that moment; see ``forum.notifications.delivery``.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from forum.notifications.emails import Outgoing

MEMORY: dict[str, list[EmailMessage]] = {}


class TemporaryFailure(Exception):
    """Not delivered this time (server down, 4xx); safe to try again later."""


class PermanentFailure(Exception):
    """Refused for good (5xx on the recipient, say); trying again will not help."""


class UncertainDelivery(Exception):
    """The connection broke while the message data was in flight: the server may or may not
    have accepted it. Resending could deliver it twice, so the deliverer holds it for staff."""


class Sender:
    """Deliver messages; usable as a context manager so SMTP reuses one connection."""

    description = ""

    def send(self, message: Outgoing, handing_over: Callable[[], None]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release any connection; the next ``send`` opens a new one."""

    def abort(self) -> None:
        """Drop any connection without a word to the server (it may be in the middle of an
        exchange we gave up on)."""
        self.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        # Left by an exception (an operator's stop-at-once among them), a send may be half
        # done: a polite QUIT would wait for the server to finish answering it.
        if exc_type is None:
            self.close()
        else:
            self.abort()


class SMTPSender(Sender):
    def __init__(self, host: str, port: int, *, implicit_tls: bool, starttls: bool,
                 username: str | None, password: str | None, timeout: float = 20.0):
        self.host, self.port = host, port
        self.implicit_tls, self.starttls = implicit_tls, starttls
        self.username, self.password = username, password
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None
        scheme = "smtps" if implicit_tls else "smtp"
        self.description = f"{scheme}://{host}:{port}" + (" (STARTTLS)" if starttls else "")

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        try:
            if self.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout,
                    context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise TemporaryFailure(f"SMTP login refused: {error}") from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(f"cannot reach {self.description}: {error}") from error
        self._smtp = smtp
        return smtp

    def send(self, message: Outgoing, handing_over: Callable[[], None]) -> None:
        if not (message.to.isascii() and message.from_address.isascii()):
            # Such an address needs the SMTPUTF8 extension and a message in UTF-8; smtplib
            # would fail with an encoding error at every retry, for a day and a half.
            raise PermanentFailure(f"{message.to}: addresses outside ASCII need SMTPUTF8, "
                                   "which this deliverer does not speak")
        reused = self._smtp is not None
        try:
            smtp, failure = self._envelope(message)
        except TemporaryFailure:
            if not reused:
                raise
            # The kept connection went stale between messages: one fresh try.
            smtp, failure = self._envelope(message)
        if failure is not None:
            self._reset()
            raise failure
        handing_over()
        try:
            # smtplib sends bytes as they are: the lines already end in CRLF.
            code, reply = smtp.data(message.data)
        except smtplib.SMTPDataError as error:
            self._reset()
            raise _failure(error.smtp_code, error.smtp_error, "DATA") from error
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise UncertainDelivery(f"SMTP connection lost during DATA: {error}") from error
        if code != 250:
            self._reset()
            raise _failure(code, reply, "DATA")

    def _envelope(self, message: Outgoing) -> tuple[smtplib.SMTP, Exception | None]:
        """MAIL FROM and RCPT TO; nothing is delivered until DATA."""
        smtp = self._connect()
        try:
            code, reply = smtp.mail(message.from_address)
            if code != 250:
                return smtp, _failure(code, reply, "MAIL FROM")
            code, reply = smtp.rcpt(message.to)
            if code not in (250, 251):
                return smtp, _failure(code, reply, "RCPT TO")
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise TemporaryFailure(f"SMTP conversation failed: {error}") from error
        return smtp, None

    def _reset(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._drop()

    def abort(self) -> None:
        self._drop()


def _failure(code: int, reply: bytes | str, step: str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    message = f"{step} answered {code} {text}".strip()
    return PermanentFailure(message) if 500 <= code < 600 else TemporaryFailure(message)


class FileSender(Sender):
    """One ``.eml`` per message, written whole then renamed into place."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.description = f"file://{folder}"

    def send(self, message: Outgoing, handing_over: Callable[[], None]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TemporaryFailure(f"cannot create {self.folder}: {error}") from error
        name = message.message_id.strip("<>").split("@", 1)[0]
        tmp = self.folder / f".{name}.tmp"
        handing_over()
        try:
            tmp.write_bytes(message.data)
            os.replace(tmp, self.folder / f"{name}.eml")
        except OSError as error:
            raise TemporaryFailure(f"cannot write {tmp}: {error}") from error


class ConsoleSender(Sender):
    description = "console"

    def send(self, message: Outgoing, handing_over: Callable[[], None]) -> None:
        handing_over()
        text = message.parsed().get_body(("plain",))
        sys.stdout.write(
            f"--- mail {message.message_id}\nTo: {message.to}\n"
            f"Subject: {message.subject}\n\n{text.get_content() if text else ''}\n---\n")
        sys.stdout.flush()


class MemorySender(Sender):
    def __init__(self, name: str):
        self.name = name
        self.description = f"memory://{name}"

    def send(self, message: Outgoing, handing_over: Callable[[], None]) -> None:
        handing_over()
        MEMORY.setdefault(self.name, []).append(message.parsed())


def from_url(url: str) -> Sender:
    """The sender FORUM_MAIL_URL names; a clear error for anything else."""
    if url == "console":
        return ConsoleSender()
    parts = urlsplit(url)
    if parts.scheme in ("smtp", "smtps"):
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        implicit = parts.scheme == "smtps"
        return SMTPSender(
            parts.hostname or "localhost", parts.port or (465 if implicit else 25),
            implicit_tls=implicit, starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", ["20"])[0]),
        )
    if parts.scheme == "file":
        return FileSender(Path(unquote(parts.path)))
    if parts.scheme == "memory":
        return MemorySender(parts.netloc or "default")
    raise ValueError(f"FORUM_MAIL_URL {url!r}: use smtp://, smtps://, file://, console or memory://")
