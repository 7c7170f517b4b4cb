"""Safe Markdown: markdown-it-py renders, nh3 keeps only harmless HTML.

Raw HTML in the source is escaped by markdown-it (``html=False``); nh3 then removes anything
that slipped through (``javascript:`` links, event attributes) and marks links as user content.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
               "th": {"align"}, "td": {"align"}}
_URL_SCHEMES = {"http", "https", "mailto"}
# Control characters other than tab/newline break rendering and terminals; they carry no meaning.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A lone UTF-16 surrogate (JSON allows "\ud800") is not text: it cannot be encoded to store.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_input(text: str) -> str:
    """What we store: the text as written, minus invisible control characters, trimmed."""
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub("", text.replace("\r\n", "\n")).strip()


@lru_cache(maxsize=4096)
def render_markdown(source: str) -> Markup:
    html = _md.render(source)
    safe = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
    )
    return Markup(safe)


_MARKDOWN_NOISE = re.compile(r"[`*_>#\[\]()!~|-]+")


@lru_cache(maxsize=4096)
def excerpt(source: str, length: int = 180) -> str:
    """Plain-text preview for lists and emails."""
    plain = " ".join(_MARKDOWN_NOISE.sub(" ", source).split())
    if len(plain) <= length:
        return plain
    return plain[: length - 1].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=4096)
def slugify(text: str, max_length: int = 60) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"
