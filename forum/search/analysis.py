"""Text analysis shared by full-text search and duplicate ranking.

Three ideas make matching robust on forum text, which mixes prose with product jargon:

* **Identifiers are split and kept whole.** ``getUserName``, ``user_name``, ``hive.exec.dynamic``
  and ``dark-mode`` yield their parts (so "user name" finds them) and the whole token (so an exact
  identifier match ranks above a loose one).
* **Language-aware stemming with accent folding.** Each idea is analysed with the Snowball stemmer
  and stop list of its own language (English, French, Italian); accents are folded *after*
  stemming, because the stemmers rely on them ("améliorations" → "amélior" → "amelior"), while
  folding makes "ameliorations" typed without accents match too.
* **Character n-grams of titles** tolerate typos, hyphenation and word forms that stemming misses
  ("notifcation" still shares most trigrams with "notification").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache, lru_cache

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    CompositeAnalyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    Token,
    Tokenizer,
)
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

LANGUAGES: tuple[str, ...] = ("en", "fr", "it")
DEFAULT_LANGUAGE = "en"

# A word, possibly joined to others by identifier punctuation (dots, hyphens, underscores, $).
# Apostrophes are not joiners: "l'amélioration" is two words in French and Italian.
_WORD = re.compile(r"\w+(?:[.\-$]\w+)*", re.UNICODE)
_JOINERS = re.compile(r"[._\-$]+")
# camelCase / PascalCase / ACRONYMWord / digits boundaries, ASCII identifiers only: natural-language
# words with accents are never camel-cased, and ASCII rules avoid surprises with other scripts.
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# Whole identifiers longer than this are usually paths or hashes: their parts are enough.
_MAX_WHOLE = 40
_MIN_PART = 2


def normalize_language(language: str | None) -> str:
    """Map anything unexpected (None, "EN", "de") to a supported language code."""
    code = (language or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def split_identifier(word: str) -> list[tuple[str, int, int]]:
    """Split ``word`` at joiners and camelCase boundaries; offsets are relative to ``word``."""
    parts: list[tuple[str, int, int]] = []
    start = 0
    for chunk in _JOINERS.split(word):
        offset = word.index(chunk, start) if chunk else start
        start = offset + len(chunk)
        if not chunk:
            continue
        if chunk.isascii():
            parts.extend((m.group(), offset + m.start(), offset + m.end())
                         for m in _CAMEL.finditer(chunk))
        else:
            parts.append((chunk, offset, offset + len(chunk)))
    return parts


@cache
def _stopwords(language: str) -> frozenset[str]:
    return frozenset(stopwords_for_language(language))


@cache
def _stemmer(language: str) -> Callable[[str], str]:
    return stemmer_for_language(language)


def _fold(text: str) -> str:
    return text.translate(accent_map)


def _term(text: str, language: str) -> str | None:
    """The index term for one word part, or None for stop words and stray letters."""
    lowered = text.lower()
    if (len(lowered) < _MIN_PART and not lowered.isdigit()) or lowered in _stopwords(language):
        return None
    return _fold(_stemmer(language)(lowered))


# Distinct words, not word occurrences: 11,862 real bug reports have 67,000 of them, and both
# caches at 200,000 entries held 61 MB of them (a vocabulary of 100,000 real ideas would have
# filled them, about 180 MB in every worker). At 32,768 entries they analysed those reports 5 %
# slower and kept 25 MB less: the common words stay, the rare ones are analysed again.
_WORDS_KEPT = 32_768


@lru_cache(maxsize=_WORDS_KEPT)
def part_terms(word: str, language: str) -> tuple[tuple[str, int, int], ...]:
    """Terms of the parts of one word (camelCase, snake_case, dotted, hyphenated), with offsets.

    The chain (split, lowercase, stop words, stemming, accent folding) runs once per distinct
    word and is cached: words repeat so much that this is several times faster than a chain of
    token filters, and search and duplicate ranking share it exactly.
    """
    parts = split_identifier(word) if len(word) > 1 else [(word, 0, len(word))]
    terms = ((_term(text, language), begin, end) for text, begin, end in parts)
    return tuple((term, begin, end) for term, begin, end in terms if term is not None)


@lru_cache(maxsize=_WORDS_KEPT)
def word_terms(word: str, language: str) -> tuple[tuple[str, int, int], ...]:
    """Index terms of one word: its parts, preceded by the whole word when it is a compound."""
    parts = part_terms(word, language)
    if len(parts) > 1 and len(word) <= _MAX_WHOLE:
        whole = _term(word, language)
        if whole is not None:
            return ((whole, 0, len(word)), *parts)
    return parts


def term_spans(text: str, language: str) -> Iterator[tuple[str, int, int]]:
    """Each index term of ``text`` with the characters it came from, as the tokenizer makes
    them (a compound word gives its whole and its parts, which overlap)."""
    language = normalize_language(language)
    for match in _WORD.finditer(text):
        base = match.start()
        for term, begin, end in word_terms(match.group(), language):
            yield term, base + begin, base + end


def query_words(text: str) -> list[str]:
    """The words of ``text`` as the tokenizer sees them (identifiers kept together)."""
    return _WORD.findall(text)


class ForumTokenizer(Tokenizer):
    """Whoosh tokenizer producing the terms of :func:`word_terms` for one language."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = normalize_language(language)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ForumTokenizer) and other.language == self.language

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.language))

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: object) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in _WORD.finditer(value):
            for text, begin, end in word_terms(match.group(), self.language):
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = text
                if positions:
                    token.pos = pos
                    pos += 1
                if chars:
                    token.startchar = start_char + match.start() + begin
                    token.endchar = start_char + match.start() + end
                yield token


class PaddedNgramFilter(Filter):
    """Character n-grams of each word, padded with spaces so word starts and ends count."""

    def __init__(self, size: int = 3) -> None:
        self.size = size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PaddedNgramFilter) and other.size == self.size

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.size))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            padded = f" {token.text} "
            for i in range(max(1, len(padded) - self.size + 1)):
                token.text = padded[i:i + self.size]
                yield token


@cache
def text_analyzer(language: str) -> Analyzer:
    """Analyzer for prose fields (title, body, comments) in ``language``."""
    return CompositeAnalyzer(ForumTokenizer(language))


@cache
def gram_analyzer() -> Analyzer:
    """Language-neutral character trigrams of words, accent-folded."""
    return (RegexTokenizer(r"\w+")
            | LowercaseFilter()
            | CharsetFilter(accent_map)
            | PaddedNgramFilter(3))


def analyze(text: str, language: str) -> list[str]:
    """Terms of ``text`` as the prose fields index them."""
    lang = normalize_language(language)
    return [term for match in _WORD.finditer(text)
            for term, _, _ in word_terms(match.group(), lang)]


def title_grams(text: str) -> list[str]:
    """Character trigrams of ``text`` as the title n-gram field indexes them."""
    return [t.text for t in gram_analyzer()(text)]


def word_grams(word: str) -> list[str]:
    """Distinct trigrams of one query word, for typo-tolerant matching."""
    return list(dict.fromkeys(title_grams(word)))


@cache
def _stopword_sets() -> dict[str, frozenset[str]]:
    sets = {lang: frozenset(stopwords_for_language(lang)) for lang in LANGUAGES}
    # Words shared by the lists say nothing about which language is used.
    shared = sets["en"] & sets["fr"] | sets["en"] & sets["it"] | sets["fr"] & sets["it"]
    return {lang: words - shared for lang, words in sets.items()}


_PLAIN_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str) -> str:
    """Best guess among LANGUAGES from distinctive stop words; English when unsure.

    Used for queries (a title being typed carries no language); stored ideas have their own.
    """
    words = [w.lower() for w in _PLAIN_WORD.findall(text[:2000])]
    sets = _stopword_sets()
    counts = {lang: sum(w in sets[lang] for w in words) for lang in LANGUAGES}
    best = max(LANGUAGES, key=lambda lang: counts[lang])
    return best if counts[best] > counts[DEFAULT_LANGUAGE] else DEFAULT_LANGUAGE


def forget_words() -> None:
    """Empty the caches of analysed words. A duplicate ranker's first build fills them with
    the rarest words of the whole index; everyday queries and new ideas fill them again with
    what is in use."""
    part_terms.cache_clear()
    word_terms.cache_clear()
