"""Highlighted titles and snippets of search hits, the same for every backend.

Highlighting runs in Python with the search analysis of the idea's language (rather than, say,
PostgreSQL's ``ts_headline``) so that matches are marked the same way whichever backend found
them, and so that everything the user wrote is escaped before any ``<mark>`` is added.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from whoosh.highlight import ContextFragmenter, Formatter, WholeFragmenter, get_text, highlight

from forum.search.analysis import text_analyzer

# Markdown syntax that only clutters a plain-text snippet: link targets, image/link brackets,
# block markers at line start, emphasis and code marks. Underscores and hyphens are kept (they
# belong to identifiers) and so is anything that looks like HTML: it is escaped, not interpreted.
_MARKDOWN_NOISE = (
    re.compile(r"\]\([^)\s]*\)"),
    re.compile(r"!?\[|\]"),
    re.compile(r"^[ \t]{0,3}(?:#{1,6}|>+|[-+*]|\d+[.)])[ \t]+", re.MULTILINE),
    re.compile(r"`+|\*{1,3}|~~"),
)
SNIPPET_CHARS = 240


class _MarkFormatter(Formatter):
    """Escapes text and wraps matches in <mark>, so snippets can be inserted as HTML."""

    between = " … "

    def _text(self, text: str) -> str:
        return escape(text)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"<mark>{escape(get_text(text, token, replace))}</mark>"


def escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


def highlighted(title: str, body: str, terms: Collection[str], language: str
                ) -> tuple[str, str]:
    """(title_html, snippet_html): escaped, with the index terms ``terms`` marked."""
    body = plain_text(body)
    analyzer = text_analyzer(language)
    wanted = set(terms)
    title_html = highlight(title, wanted, analyzer, WholeFragmenter(), _MarkFormatter(),
                           top=1, minscore=0) if wanted else ""
    snippet_html = highlight(body, wanted, analyzer,
                             ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60),
                             _MarkFormatter(), top=2) if wanted else ""
    if not snippet_html:
        snippet_html = escape(shorten(body, SNIPPET_CHARS))
    return title_html or escape(title), snippet_html


def plain_text(markdown: str) -> str:
    for pattern in _MARKDOWN_NOISE:
        markdown = pattern.sub(" ", markdown)
    return " ".join(markdown.split())


def shorten(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0] + "…"
