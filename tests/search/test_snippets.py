"""Snippets of search hits: where a long text is cut, and what is marked."""

from __future__ import annotations

import re

from forum.search.analysis import analyze
from forum.search.snippets import SNIPPET_CHARS, highlighted


def _terms(query: str) -> set[str]:
    return set(analyze(query, "en"))


def _text(html: str) -> str:
    return re.sub(r"</?mark>", "", html).replace("&amp;", "&")


def test_a_long_text_is_cut_around_its_matches_at_spaces() -> None:
    filler = "lorem ipsum dolor sit amet " * 20
    body = filler + "we need a calendar export for the board meeting " + filler
    _title, snippet = highlighted("Something", body, _terms("calendar"), "en")
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>calendar</mark>" in snippet
    shown = _text(snippet).strip("…")
    assert len(shown) <= SNIPPET_CHARS
    # Cut between words: every word shown is a whole word of the body.
    assert set(shown.split()) <= set(body.split())
    # Some context before the match, not only after it.
    assert shown.index("calendar") >= 20


def test_the_window_with_most_matches_wins() -> None:
    filler = "nothing to see here at all " * 15
    body = ("export once. " + filler + "export to csv, export to excel, export to pdf. "
            + filler)
    _title, snippet = highlighted("t", body, _terms("export"), "en")
    assert snippet.count("<mark>export</mark>") == 3
    assert "export once" not in snippet


def test_stemmed_and_compound_words_are_marked_whole() -> None:
    title, snippet = highlighted("Exporting reports", "The dark-mode toggle and darkMode flag",
                                 _terms("export dark mode"), "en")
    assert title == "<mark>Exporting</mark> reports"
    assert snippet == ("The <mark>dark</mark>-<mark>mode</mark> toggle and <mark>darkMode</mark> "
                       "flag")
    _title, snippet = highlighted("t", "The dark-mode toggle", _terms("dark-mode"), "en")
    assert snippet == "The <mark>dark-mode</mark> toggle"


def test_a_short_text_is_shown_whole_and_escaped() -> None:
    title, snippet = highlighted("<b>Tags</b>", "a & b <i>tags</i>", _terms("tags"), "en")
    assert title == "&lt;b&gt;<mark>Tags</mark>&lt;/b&gt;"
    assert snippet == "a &amp; b &lt;i&gt;<mark>tags</mark>&lt;/i&gt;"


def test_without_a_match_the_text_starts_the_snippet() -> None:
    body = "word " * 100
    title, snippet = highlighted("Title", body, _terms("absent"), "en")
    assert title == "Title"
    assert snippet.endswith("…") and len(snippet) <= SNIPPET_CHARS
    assert snippet.startswith("word word")


def test_a_text_full_of_matches_still_makes_one_short_snippet() -> None:
    body = "sync " * 4000
    _title, snippet = highlighted("t", body, _terms("sync"), "en")
    assert snippet.startswith("<mark>sync</mark>")
    assert len(_text(snippet)) <= SNIPPET_CHARS + 1


def test_a_match_right_after_a_long_url_keeps_its_mark() -> None:
    # No space in the sixty characters before the match: the cut stays inside the URL rather
    # than jumping to the next space, past the match.
    body = ("lorem ipsum " * 30 + "see https://support.example.com/hc/en-us/articles/"
            "360012345678-Export-your-calendar is broken and nobody answers. " + "more text " * 30)
    _title, snippet = highlighted("t", body, _terms("calendar"), "en")
    assert "<mark>calendar</mark>" in snippet
    assert len(_text(snippet).strip("…")) <= SNIPPET_CHARS


def test_a_match_in_a_word_running_past_the_window_keeps_its_mark() -> None:
    # The match starts a word that runs on past the window's end: the cut stays in that word
    # rather than going back to the space before it, which would lose the match.
    body = "q " * 200 + "calendar_" + "x" * 400 + " tail"
    _title, snippet = highlighted("t", body, _terms("calendar"), "en")
    assert "<mark>calendar</mark>_x" in snippet
    assert snippet.endswith("x…")
    assert len(_text(snippet).strip("…")) <= SNIPPET_CHARS


def test_matches_in_the_lead_before_a_window_count_for_it() -> None:
    # Matches at 100, 140 and 300: the window placed for the one at 140 starts at 80 and holds
    # all three, the one placed for 100 only two.
    body = ("aaaa " * 20 + "sync " + "aaaa " * 7 + "sync " + "aaaa " * 31 + "sync "
            + "aaaa " * 60)
    assert [body.find("sync", n) for n in (0, 101, 141)] == [100, 140, 300]
    _title, snippet = highlighted("t", body, _terms("sync"), "en")
    assert snippet.count("<mark>sync</mark>") == 3
