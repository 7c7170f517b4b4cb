"""The catalogues are complete: every message in the code has a French and an Italian
translation, none fuzzy, with the same placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for folder in ("forum", "templates", "templates/_partials"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, METHODS, keywords={**KEYWORDS}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return source_messages()


@pytest.mark.parametrize("locale", ["fr", "it"])
def test_catalogue_translates_every_message(messages, locale):
    path = ROOT / "forum" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    translated, fuzzy = {}, []
    for entry in catalogue:
        if not entry.id:
            continue
        key = entry.id if isinstance(entry.id, str) else entry.id[0]
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        if entry.fuzzy:
            fuzzy.append(key)
        if all(s.strip() for s in strings):
            translated[key] = entry
    missing = sorted(messages - set(translated))
    assert missing == [], f"{locale}: {len(missing)} untranslated, e.g. {missing[:10]}"
    assert fuzzy == [], f"{locale}: fuzzy entries {fuzzy[:10]}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    assert problems == [], f"{locale}: placeholder mismatches {problems[:5]}"
