"""The search box's language: words, "exact phrases" and operators, read into a Query. Pure: no database.

    deploy "new version" from:alice in:#general in:@bob has:link after:2026-11-01 before:2026-12-01

Every word and phrase must be in a message (anywhere in a word, in any case); each operator narrows further.
Operators of one kind said twice widen among themselves (from:alice from:bob: by either; in:#general in:@bob:
in either) and dates narrow (the earliest before:, the latest after:). A word that only looks like an operator
(https://…, note:) is a word. A mistake (a bad date, an operator without its value) is a QueryError, in the
active language.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext

MAX_TERMS = 10  # words and phrases in one query: each is one more condition for the database
HAS = ("link", "file")

# Chinese, Japanese and Korean characters: no spaces between their words, so a query of one or two of them
# is looked up through their own index (migration 0015's rooms_cjk_grams, which names the same characters).
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")

_TOKEN = re.compile(
    r"""(?P<operator>from|in|has|before|after):(?P<value>[#@]?(?:"[^"]*"?|[^\s"]*))  # from:alice, in:#"a b"
    | "(?P<phrase>[^"]*)"?                                                         # an unclosed quote: to the end
    | (?P<word>[^\s"]+)""",
    re.IGNORECASE | re.VERBOSE,
)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class QueryError(ValueError):
    """What is wrong with a query, said to the person who typed it."""


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # from:name
    rooms: tuple[str, ...] = ()  # in:#room
    people: tuple[str, ...] = ()  # in:@name, the direct conversation with them
    has: frozenset[str] = field(default_factory=frozenset)
    before: dt.date | None = None
    after: dt.date | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        """Everything the text must contain."""
        return self.words + self.phrases

    @property
    def has_operators(self) -> bool:
        return bool(self.authors or self.rooms or self.people or self.has or self.before or self.after)

    def __bool__(self) -> bool:
        return bool(self.terms) or self.has_operators


def is_cjk(term: str) -> bool:
    return all(CJK.match(char) for char in term)


def parse(text: str) -> Query:
    words, phrases, authors, rooms, people, has = [], [], [], [], [], set()
    before = after = None
    for token in _TOKEN.finditer(text):
        if token["word"] is not None:
            words.append(token["word"])
        elif token["phrase"] is not None:
            if phrase := " ".join(token["phrase"].split()):
                phrases.append(phrase)
        else:
            operator, value = token["operator"].lower(), token["value"]
            sigil, name = (value[:1], value[1:]) if value[:1] in "#@" else ("", value)
            name = " ".join(name.strip('"').split())
            if not name:
                raise QueryError(_missing(operator))
            if operator == "from":
                authors.append(name)
            elif operator == "in" and sigil == "#":
                rooms.append(name)
            elif operator == "in" and sigil == "@":
                people.append(name)
            elif operator == "in":
                raise QueryError(gettext("in: takes a room or a person, e.g. in:#general or in:@alice."))
            elif operator == "has":
                if name.lower() not in HAS:
                    raise QueryError(gettext("has: takes link or file, e.g. has:link."))
                has.add(name.lower())
            elif operator == "before":
                day = _date(name)
                before = min(before, day) if before else day
            else:
                day = _date(name)
                after = max(after, day) if after else day
    if len(words) + len(phrases) > MAX_TERMS:
        raise QueryError(gettext("Search for at most %(count)s words and phrases at once.") % {"count": MAX_TERMS})
    return Query(
        tuple(words), tuple(phrases), tuple(authors), tuple(rooms), tuple(people), frozenset(has), before, after
    )


def _missing(operator: str) -> str:
    examples = {
        "from": "from:alice",
        "in": "in:#general",
        "has": "has:link",
        "before": "before:2026-12-01",
        "after": "after:2026-12-01",
    }
    return gettext("%(operator)s: needs what to look for, e.g. %(example)s.") % {
        "operator": operator,
        "example": examples[operator],
    }


def _date(value: str) -> dt.date:
    try:
        if _DAY.fullmatch(value):  # fromisoformat alone would take weeks (2026-W48) and 20261201 too
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise QueryError(
        gettext("“%(value)s” is not a date: write it as year-month-day, e.g. 2026-12-01.") % {"value": value}
    )
