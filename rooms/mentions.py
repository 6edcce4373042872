"""@mentions in what people write, as the formatter finds them (rooms/formatting.py): `@username` names a
person, `@here` everyone with the room open. The name is the longest known one the text after "@" starts
with, so "@bob," names bob and "请@张伟看一下" names 张伟 (Chinese puts no space after a name). Only in a
message's text: not in code, and not inside a link (an email address is one)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

HERE = "here"
# An "@" right after what goes before one in an address or a path is not a mention: "alice@example.com",
# "https://example.com/@bob", "key=@value". After a space, punctuation or a Chinese character, it is.
_AT = re.compile(r"(?<![A-Za-z0-9._%+\-@/:=])@([\w.+\-]{1,64})")
# Looked up per message at most: each costs its prefixes in the lookup.
MAX_NAMES = 20
# A name cannot end inside a run of these: "@bobby" does not name bob (but "@bob." and "@bob你好" do).
_LATIN_WORD = re.compile(r"[A-Za-z0-9_]")


_NAMED = re.compile(r'class="mention" data-user="(\d+)"')


def named_in(html: str) -> set[int]:
    """Whom a rendered message names (its mention links carry their ids)."""
    return {int(user_id) for user_id in _NAMED.findall(html)}


def says_here(html: str) -> bool:
    return 'class="mention mention-here"' in html


class Person(NamedTuple):
    user_id: int
    card_url: str


def candidates(text: str) -> set[str]:
    """Every name an @word of `text` might be (each prefix, lower case), for one lookup of who they are."""
    words = {m.group(1).lower() for m in _AT.finditer(text)}
    return {word[:n] for word in sorted(words)[:MAX_NAMES] for n in range(1, len(word) + 1)}


def _resolve(word: str, people: Mapping[str, Person], here: bool) -> tuple[int, Person | None] | None:
    """How many characters of `word` name someone, and whom (None: @here); None if nobody."""
    lowered = word.lower()
    for n in range(len(lowered), 0, -1):
        if n < len(lowered) and _LATIN_WORD.match(lowered[n]) and _LATIN_WORD.match(lowered[n - 1]):
            continue
        if (found := people.get(lowered[:n])) is not None:
            return n, found
        if here and lowered[:n] == HERE:
            return n, None
    return None


def _split(text: Token, people: Mapping[str, Person], here: bool, env: dict) -> Iterator[Token]:
    at = 0
    for match in _AT.finditer(text.content):
        if (found := _resolve(match.group(1), people, here)) is None:
            continue
        length, person = found
        start, end = match.start(), match.start(1) + length
        if start > at:
            yield Token("text", "", 0, content=text.content[at:start])
        if person is None:
            env["here"] = True
            yield Token("mention_open", "span", 1, attrs={"class": "mention mention-here"})
        else:
            env["mentioned"].add(person.user_id)
            attrs = {"href": person.card_url, "class": "mention", "data-user": str(person.user_id)}
            yield Token("mention_open", "a", 1, attrs=attrs)
        yield Token("text", "", 0, content=text.content[start:end])
        yield Token("mention_close", "span" if person is None else "a", -1)
        at = end
    if at < len(text.content):
        yield Token("text", "", 0, content=text.content[at:])


def link_mentions(state: StateCore) -> None:
    """A markdown-it core rule: @names in text become links to the person's card (`env["people"]`: lower-case
    username -> Person), @here a highlighted span (if `env["here"]` allows it). Whom it found goes back in
    env: "mentioned" (user ids) and "here"."""
    people, here = state.env.get("people") or {}, bool(state.env.get("here"))
    state.env["mentioned"], state.env["here"] = set(), False
    if not people and not here:
        return
    for block in state.tokens:
        if not block.children:
            continue
        children, in_link = [], 0
        for token in block.children:
            in_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and not in_link and "@" in token.content:
                children.extend(_split(token, people, here, state.env))
            else:
                children.append(token)
        block.children = children
