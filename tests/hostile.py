"""Shared tools of the security and reliability suites: a corpus of hostile inputs, a check
that a page is inert (nothing a visitor wrote can run), and a fingerprint of the database (to
prove that a refused request changed nothing)."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sqlalchemy import select

from forum.config import DEFAULTS
from forum.extensions import db

# --- the corpus ----------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    "<<script>script>alert(1)<</script>/script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)' autofocus='",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "--><script>alert(1)</script><!--",
    "<style>body{display:none}</style>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    '<form action="https://evil.example/"><button>Win</button></form>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "{{ 7*7 }} {% if true %}jinja{% endif %} ${7*7} #{7*7}",
]

MARKDOWN = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](<javascript:alert(1)>)",
    "[click](&#106;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](javascript:alert(1))",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '[click](https://example.com "title" onclick="alert(1)")',
    "[ref][x]\n\n[x]: javascript:alert(1)",
    "<https://example.com/a?b=<script>>",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>indented code</script>",
    "*<img src=x onerror=alert(1)>*",
    "| a | <script>x</script> |\n|---|---|\n| <img src=x onerror=y> | b |",
    "Some **bold** and _em_ and a [real link](https://example.com/path?q=1).",
]

INJECTION = [
    "' OR '1'='1",
    "1; DROP TABLE ideas; --",
    "Robert'); DROP TABLE users;--",
    '" OR 1=1 --',
    "%' AND 1=0 UNION SELECT email, password_hash FROM users --",
    # Whoosh query syntax
    "title:* OR body:*",
    "AND OR NOT",
    "(((",
    '"unterminated phrase',
    "a* ~2 ^3 [a TO z] {a TO}",
    "*:*",
    "body:x^10000",
]

UNICODE = [
    "\u202eevil.exe\u202c reversed",
    "Zero\u200b\u200bwidth\u200d joiners\ufeff",
    "😀" * 40,
    "Ünïcödé ñame — “quotes” ‘single’ …",
    "مرحبا بالعالم",
    "Z̷̢̛̪a̴̜͠l̶̳̇g̵̗̈o̸̤͝",
    "nul\x00byte in the middle",
    "\x07bell \x1b[31mred\x1b[0m terminal",
    "tab\tand\r\nwindows newlines\rold mac",
    "\x7fdelete\x0bvertical\x0cform feed",
    "e\u0301 combining and \ufb01 ligature",
]

LONG = [
    "A" * 121,
    "word " * 30,
    "x" * 10_000,
]

# Bodies near the size limit built to make a Markdown renderer work hard.
HUGE_MARKDOWN = [
    "> " * 5_000 + "deep quote",
    "[" * 19_000,
    "*" * 19_000,
    "- " * 9_000 + "x",
    "|a|b|\n|-|-|\n" + "|x|y|\n" * 3_000,
    "`" * 19_000,
    "<!--" * 4_000,
    "[a](" * 4_000,
    "*a **b " * 2_500,
]

CORPUS = [*XSS, *MARKDOWN, *INJECTION, *UNICODE, *LONG]

# Redirect targets an attacker would like the site to send someone to after signing in.
OPEN_REDIRECTS = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%2F%2Fevil.example/",
    "/\t/evil.example/",
    " //evil.example/",
    "http://forum.test@evil.example/",
]


# The test server's name, and the site's own absolute URL (FORUM_BASE_URL, used by canonical
# links and feeds).
SAME_SITE_HOSTS = frozenset({"forum.test", "localhost", urlsplit(DEFAULTS["BASE_URL"]).netloc})


def redirect_is_same_site(location: str) -> bool:
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        return parts.scheme in ("http", "https") and parts.netloc in SAME_SITE_HOSTS
    return location.startswith("/") and not location.startswith("//") and "\\" not in location


# --- inert pages ---------------------------------------------------------------------------

# The tags the templates and the Markdown renderer produce. A template that needs another one
# adds it here; anything outside this list in a page is treated as injected markup.
_TAG_LIST = """
    html head meta title link script body a header div nav form input button label select
    option main p footer span ol ul li article section time textarea h1 h2 h3 h4 h5 h6 strong
    em del s code pre blockquote hr br table thead tbody tr th td img small dl dt dd details
    summary fieldset legend abbr mark figure figcaption caption kbd sup sub i b q cite
    svg path circle g rect line polyline text title desc
"""
ALLOWED_TAGS = frozenset(_TAG_LIST.split())
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster",
                            "background", "ping", "cite", "data", "srcset"})
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")


def _squash(value: str) -> str:
    # Browsers ignore whitespace and control characters inside a URL's scheme.
    return "".join(ch for ch in value if ord(ch) > 32).lower()


class _InertParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"unexpected <{tag}> {values}")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"event handler <{tag} {name}={value!r}>")
            if name in ("style", "srcdoc"):
                self.problems.append(f"<{tag} {name}=…> attribute")
            if name in URL_ATTRIBUTES and _squash(value).startswith(BAD_SCHEMES):
                self.problems.append(f"<{tag} {name}={value!r}> runs code")
        if tag == "script":
            self._in_script = True
            if not values.get("src", "").startswith("/static/"):
                self.problems.append(f"script not from /static/: {values}")
        if tag == "meta" and "http-equiv" in values:
            self.problems.append(f"<meta http-equiv> {values}")
        if tag in ("form", "link") or (tag == "button" and "formaction" in values):
            target = values.get("action") or values.get("href") or values.get("formaction") or "/"
            if not redirect_is_same_site(target):
                self.problems.append(f"<{tag}> pointing off-site: {target!r}")
        if tag == "a" and urlsplit(values.get("href", "")).netloc:
            rel = set(values.get("rel", "").split())
            if not {"nofollow", "ugc"} <= rel:
                self.problems.append(f"off-site link without rel=nofollow ugc: {values}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data[:80]!r}")
        self.text.append(data)


def inert_problems(html: str) -> list[str]:
    parser = _InertParser()
    parser.feed(html)
    parser.close()
    return parser.problems


def page_text(html: str) -> str:
    """The text a reader sees (entities decoded), to find what someone wrote on a page."""
    parser = _InertParser()
    parser.feed(html)
    parser.close()
    return "".join(parser.text)


def assert_inert(html: str, where: str = "") -> None:
    problems = inert_problems(html)
    assert not problems, f"{where}: markup that could run: {problems}"


# --- nothing changed -----------------------------------------------------------------------

# Columns a harmless read may touch (none are written on reads today; listed for when one is).
VOLATILE = frozenset({"users.last_seen_at"})


def fingerprint() -> str:
    """A digest of every row of every table: equal before and after means nothing changed."""
    digest = hashlib.blake2b(digest_size=16)
    db.session.rollback()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if f"{table.name}.{c.name}" not in VOLATILE]
        rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{rows!r}".encode())
    db.session.rollback()
    return digest.hexdigest()


def assert_response_inert(response, where: str = "") -> None:
    """HTML must be inert; other types (JSON, Atom) are never rendered as HTML by a browser
    when they say what they are and forbid sniffing."""
    if response.mimetype == "text/html":
        assert_inert(response.text, where)
        return
    assert response.mimetype in ("application/json", "application/atom+xml", "text/csv",
                                 "text/css", "text/plain"), (where, response.mimetype)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
