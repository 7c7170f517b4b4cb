"""The messages the deliverer writes by hand (forum.notifications.emails._mime), read back
with Python's own mail parser as a mail client would."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest

from forum.notifications.emails import _from_header, _mime

TRICKY_TEXT = ("Bonjour Élodie,\n\nLine with trailing spaces   \n.\n=3D is not an escape\n"
               # Long lines ending in blanks (a Markdown hard break in a staff note): binascii
               # alone wrote them one or two characters past 76.
               + "a" * 75 + " \n" + "b" * 74 + "\t\n" + "c" * 73 + "  \n" + "é" * 40 + " \n"
               "tab\there and a very long line " + "word " * 40 + "\n--\nnot a boundary\n"
               "emoji 🚀 and “quotes”, naïve café\r\nwindows line end\rold mac\n")
TRICKY_HTML = "<p>" + "é<b>x</b> " * 60 + "</p>\n<p>=_forum_ inside the text</p>"


@pytest.mark.parametrize("subject", [
    "Shipped: dark mode",
    "Livré : « Mode sombre » pour les rapports et les tableaux de bord de l’équipe",
    "🚀" * 30,
    "x" * 150 + "é",
])
def test_a_message_reads_back_as_written(subject: str) -> None:
    data = _mime([("Subject", subject), ("To", "a@example.com"),
                  ("List-Unsubscribe", "<https://example.com/u/" + "t" * 150 + ">")],
                 TRICKY_TEXT, TRICKY_HTML)
    mail = message_from_bytes(data, policy=default)
    assert mail["Subject"] == subject
    assert mail["To"] == "a@example.com"
    # A long URL stays one unfolded token.
    assert mail["List-Unsubscribe"] == "<https://example.com/u/" + "t" * 150 + ">"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    expected = TRICKY_TEXT.replace("\r\n", "\n").replace("\r", "\n")
    assert text.replace("\r\n", "\n") == expected
    assert html.replace("\r\n", "\n") == TRICKY_HTML


def test_the_wire_format_is_seven_bit_short_lines_with_crlf() -> None:
    data = _mime([("Subject", "Livré : " + "é" * 80)], TRICKY_TEXT, TRICKY_HTML)
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    head, _, body = data.partition(b"\r\n\r\n")
    # RFC 2047: a line holding encoded words is at most 76 characters.
    assert all(len(line) <= 76 for line in head.split(b"\r\n") if b"=?utf-8?" in line)
    # Quoted-printable: at most 76 characters a line.
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_each_message_has_its_own_boundary() -> None:
    first, second = (_mime([], "a", "b") for _ in range(2))
    assert first.split(b"\r\n", 1)[0] != second.split(b"\r\n", 1)[0]


def test_a_site_name_outside_ascii_reads_back() -> None:
    name = "Retours et idées"
    data = _mime([("From", _from_header(name, "feedback@example.com"))], "a", "b")
    mail = message_from_bytes(data, policy=default)
    assert mail["From"].addresses[0].display_name == name
    assert mail["From"].addresses[0].addr_spec == "feedback@example.com"


def test_a_header_setting_outside_ascii_still_makes_a_message() -> None:
    # A site address on a Unicode domain ends up in the Message-ID: encoded, not a crash.
    data = _mime([("Message-ID", "<forum-1-abc@exemple-société.fr>")], "a", "b")
    assert data.isascii()


@pytest.mark.parametrize("value", ["Hello\r\nBcc: someone@example.com", "a\nb", "a\rb"])
def test_a_header_can_never_start_another(value: str) -> None:
    with pytest.raises(ValueError):
        _mime([("Subject", value)], "a", "b")
