"""Highlighted titles and snippets of search hits, the same for every backend.

Highlighting runs in Python with the search analysis of the idea's language (rather than, say,
PostgreSQL's ``ts_headline``) so that matches are marked the same way whichever backend found
them, and so that everything the user wrote is escaped before any ``<mark>`` is added.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from forum.search.analysis import term_spans

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
# Context kept before the first match of a snippet cut from a longer text.
_LEAD_CHARS = 60


def escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


def highlighted(title: str, body: str, terms: Collection[str], language: str
                ) -> tuple[str, str]:
    """(title_html, snippet_html): escaped, with the index terms ``terms`` marked.

    The snippet is the stretch of at most ``SNIPPET_CHARS`` characters of the body that holds
    the most matches, cut at spaces, with "…" where the body goes on. Written here rather than
    with Whoosh's highlighter, which did the same through layers of token objects, fragment
    scorers and formatters: a fifth of a search page's time for twenty hits.
    """
    body = plain_text(body)
    wanted = set(terms)
    if not wanted:
        return escape(title), escape(shorten(body, SNIPPET_CHARS))
    title_html = _marked(title, _matches(title, wanted, language), 0, len(title))
    spans = _matches(body, wanted, language)
    if not spans:
        return title_html, escape(shorten(body, SNIPPET_CHARS))
    if len(body) <= SNIPPET_CHARS:
        return title_html, _marked(body, spans, 0, len(body))
    begin, end = _window(body, spans)
    return title_html, ("…" if begin else "") + _marked(body, spans, begin, end) + (
        "…" if end < len(body) else "")


def _matches(text: str, wanted: set[str], language: str) -> list[tuple[int, int]]:
    """The character spans of ``text`` whose terms are wanted, in order; overlapping and
    touching ones are joined (a compound word and its parts may all match)."""
    spans: list[tuple[int, int]] = []
    for term, begin, end in term_spans(text, language):
        if term not in wanted:
            continue
        if spans and begin <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((begin, end))
    return spans


def _window(text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """Where to cut a snippet from a text longer than ``SNIPPET_CHARS``: the window holding
    the most matched spans (the earliest among equals), starting a little before its first."""
    best_count, best_begin, first_start, last_stop = 0, 0, 0, 0
    # Windows start at each span in turn, less the lead (or early enough to end with the
    # text): both the first and the last span inside only move forward, so one pass counts
    # every window and a long text full of matches stays linear.
    low = high = 0
    for anchor, _stop in spans:
        begin = max(0, min(anchor - _LEAD_CHARS, len(text) - SNIPPET_CHARS))
        while spans[low][0] < begin:
            low += 1
        high = max(high, low)
        while high < len(spans) and spans[high][1] <= begin + SNIPPET_CHARS:
            high += 1
        if high - low > best_count:
            best_count, best_begin = high - low, begin
            first_start, last_stop = spans[low][0], spans[high - 1][1]
    begin, end = best_begin, best_begin + SNIPPET_CHARS
    if not best_count:  # one match longer than a whole snippet: cut through it
        return begin, end
    # Cut at spaces, never inside a word, and never past a match of the window: in a URL or
    # a long identifier with no space before or after the match, the cut stays in the word.
    if begin > 0 and not text[begin - 1].isspace():
        space = text.find(" ", begin, first_start)
        if space != -1:
            begin = space + 1
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", last_stop, end)
        if space != -1:
            end = space
    return begin, end


def _marked(text: str, spans: list[tuple[int, int]], begin: int, end: int) -> str:
    """``text[begin:end]`` escaped, with the spans inside it in ``<mark>``."""
    out: list[str] = []
    position = begin
    for start, stop in spans:
        start, stop = max(start, begin), min(stop, end)
        if start >= stop:
            continue
        out.append(escape(text[position:start]))
        out.append(f"<mark>{escape(text[start:stop])}</mark>")
        position = stop
    out.append(escape(text[position:end]))
    return "".join(out)


def plain_text(markdown: str) -> str:
    for pattern in _MARKDOWN_NOISE:
        markdown = pattern.sub(" ", markdown)
    return " ".join(markdown.split())


def shorten(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0] + "…"
