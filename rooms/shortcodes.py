"""Emoji by name for the composer's suggestions after ":" (static/js/suggest.js): every fully-qualified emoji
of the `emoji` package, found by its shortcodes (":smile:", ":+1:") and by its name in English or, for a
Chinese page, in Chinese. What is sent is turned into emoji when it is rendered (rooms/formatting.py)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import emoji
from emoji.unicode_codes import EMOJI_DATA, load_from_json

SUGGESTIONS = 8
MIN_QUERY = 2  # characters after ":" before anything is suggested


@dataclass(frozen=True, slots=True)
class Emoji:
    char: str
    code: str  # the shortest shortcode, as typed
    names: tuple[str, ...]  # every shortcode and name, lower case, without colons


@functools.cache
def _index(language: str) -> tuple[Emoji, ...]:
    if language != "en":
        load_from_json(language)  # the package loads each language's names on first use
    found = []
    for char, data in EMOJI_DATA.items():
        if data.get("status") != emoji.STATUS["fully_qualified"]:
            continue
        codes = [*data.get("alias", ()), data["en"]]
        names = [c.strip(":").replace("_", " ").lower() for c in codes]
        if language != "en" and data.get(language):
            names.append(data[language].strip(":").replace("_", " "))
        found.append(Emoji(char, min(codes, key=len), tuple(names)))
    return tuple(found)


def suggest(query: str, language: str = "en") -> list[Emoji]:
    """Emoji with a name starting with `query` (shortest shortcode first), then with a name containing it."""
    query = query.strip(":").replace("_", " ").lower()
    if len(query) < MIN_QUERY:
        return []
    index = _index("zh" if language.startswith("zh") else "en")
    first = sorted(
        (e for e in index if any(n.startswith(query) for n in e.names)),
        key=lambda e: (not e.code.strip(":").startswith(query), len(e.code)),  # ":smile:" before ":hugs:"
    )
    if len(first) < SUGGESTIONS:
        taken = {e.char for e in first}
        first += [e for e in index if e.char not in taken and any(query in n for n in e.names)]
    return first[:SUGGESTIONS]
