"""Finding English left in French or Italian output: the text a person reads on a page or in an
email, and the words that give English away.

Two nets. The fine one: a piece of text that is exactly one of the product's English messages
(when the catalogue does not keep it unchanged on purpose). The wide one: English function
words and phrases that are not also French or Italian words (so not "a", "on", "or", "as",
"but", "no", "in", "idea", "comment", which both languages use), as whole words.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]

# Words that are the same in every language here, loanwords both languages use in software,
# and names. Compared with a whole piece of text, lower-cased.
ALLOWED = {"email", "e-mail", "password", "markdown", "feedback", "team", "pages", "page",
           "votes", "top", "vote", "notes", "ok", "api", "roadmap", "csv", "token", "tokens",
           "account", "fider", "canny", "uservoice", "json", "openapi", "atom", "x-csrftoken",
           "authorization", "bearer", "retry-after", "smtp", "url", "id", "tag", "tags", "slug",
           "status", "dashboard", "inbox", "trending", "spam", "export", "import", "board"}

# English that French and Italian never use: function words and the UI's own phrases.
ENGLISH = re.compile(
    r"\b(the|and|your|yours|you|with|this|that|these|those|are|is|was|were|been|has|have|had|"
    r"will|would|should|could|can|cannot|can't|don't|doesn't|isn't|please|yet|here|there|by|"
    r"of|to|for|from|not|at|it|its|it's|we|our|they|their|them|what|which|who|whom|how|when|"
    r"where|why|than|then|into|about|after|before|only|also|any|every|each|some|all|"
    r"sign in|sign up|sign out|log in|vote for|votes for|read more|see all|"
    r"new idea|ideas|voters|comments|reply|shipped|planned|declined|under review|in progress|"
    r"open|closed|settings|search|save|cancel|delete|edit|update|submit|send|back|next|"
    r"previous|newest|oldest|yes|partly|nobody|someone|something|nothing|"
    r"day|days|hour|hours|week|weeks|month|months|year|years|ago|"
    r"today|yesterday|tomorrow|january|february|march|april|may|june|july|august|"
    r"september|october|november|december|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|jan|feb|apr|jun|jul|aug|sep|dec|"
    r"required|invalid|field|must|least|most|characters?)\b"
    # An elided French or Italian article is not English: "all’indirizzo", "l'idée".
    r"(?![’'])",
    re.IGNORECASE,
)

# Terms both languages write in English, removed before looking for English words.
LOANWORDS = re.compile(r"\b(open[ -]source|Retry-After|X-CSRFToken|OpenAPI|Markdown|"
                       r"Authorization: Bearer)\b", re.IGNORECASE)

# Elements whose text is not prose for people: code samples and the like.
SKIPPED = {"script", "style", "code", "pre", "template"}
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "aria-description"}


class VisibleText(HTMLParser):
    """Collects text a person reads, and attributes a screen reader reads or a button shows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0
        # Elements marked lang="en" (the API reference quotes the OpenAPI document) are
        # English on purpose; their nesting is tracked by tag name.
        self._english: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in SKIPPED:
            self._skip += 1
        if (values.get("lang") == "en" and tag != "html") or (self._english and \
                tag == self._english[0]):
            self._english.append(tag)
        if self._english:
            return
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.chunks.append(value)
        if tag == "input" and values.get("type") in ("submit", "button", "reset") \
                and values.get("value"):
            self.chunks.append(values["value"])
        if tag == "meta" and values.get("name") == "description" and values.get("content"):
            self.chunks.append(values["content"])

    def handle_startendtag(self, tag, attrs):
        depth = len(self._english)
        self.handle_starttag(tag, attrs)
        del self._english[depth:]
        if tag in SKIPPED:
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in SKIPPED and self._skip:
            self._skip -= 1
        if self._english and tag == self._english[0]:
            self._english.pop()

    def handle_data(self, data):
        if not self._skip and not self._english and data.strip():
            self.chunks.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.chunks


@cache
def _catalogue(locale: str) -> dict[str, str]:
    path = ROOT / "forum" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    kept = {}
    for entry in catalogue:
        if not entry.id:
            continue
        ids = [entry.id] if isinstance(entry.id, str) else list(entry.id)
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        for english in ids:
            kept[english] = strings[0] if strings else ""
    return kept


@cache
def english_messages(locale: str) -> frozenset[str]:
    """The product's English sentences that the locale translates (not those it keeps)."""
    return frozenset(m for m, t in _catalogue(locale).items()
                     if m != t and "%(" not in m and m.lower() not in ALLOWED)


# URLs, e-mail addresses and paths are not language.
_NOT_WORDS = re.compile(r"(https?://\S+|\S+@\S+|/[\w./<>{}-]*|\{[^}]*\}|%\([a-z_]+\)[sd])")


def english_in(chunk: str, locale: str, user_text: frozenset[str] = frozenset()) -> str | None:
    """The English found in one piece of text, or None."""
    text = chunk
    for written in sorted(user_text, key=len, reverse=True):
        text = text.replace(written, " ")
    text = " ".join(_NOT_WORDS.sub(" ", LOANWORDS.sub(" ", text)).split())
    if not text or text.lower() in ALLOWED:
        return None
    if text in english_messages(locale):
        return text
    match = ENGLISH.search(text)
    return match.group(0) if match else None


def english_on_page(html: str, locale: str, user_text: frozenset[str] = frozenset()
                    ) -> list[tuple[str, str]]:
    """(word, text) for every piece of English a reader of this HTML would see."""
    found = []
    for chunk in visible_text(html):
        word = english_in(chunk, locale, user_text)
        if word:
            found.append((word, chunk))
    return found
