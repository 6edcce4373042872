"""How a person is shown where they are named: their display name (else their username), and their avatar,
the picture they uploaded or their initials on a colour of their own.

Everything here reads the user's profile: load it with the user (`select_related("author__profile")` and
the like) so naming fifty authors costs no query.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from .models import Profile

# Generated avatars' colours, the CSS classes avatar-c0 … avatar-c7.
AVATAR_COLOURS = 8
# Where a name splits into words for its initials: spaces, and the separators usernames use.
_WORD_BREAKS = re.compile(r"[\s._\-@+]+")
# Scripts whose names are not split into initials: one character of a Chinese, Japanese or Korean name (the
# family name, in Chinese) is the short form people recognise.
_CJK = ("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO")


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    name: str
    initials: str
    colour: int
    avatar_url: str


def person(user: AbstractBaseUser) -> Person:
    username = user.get_username()
    shown = name(user)
    return Person(
        username=username,
        name=shown,
        initials=initials(shown) or initials(username) or "?",
        colour=colour(user.pk),
        avatar_url=avatar_url(user),
    )


def name(user: AbstractBaseUser) -> str:
    profile = Profile.of(user)
    return (profile.display_name if profile else "") or user.get_username()


def avatar_url(user: AbstractBaseUser) -> str:
    profile = Profile.of(user)
    return profile.avatar.url if profile and profile.avatar else ""


def colour(user_id: int | None) -> int:
    """The same for a person everywhere and always (their id), and different for people who joined one after
    the other."""
    return (user_id or 0) % AVATAR_COLOURS


def initials(text: str) -> str:
    """One or two letters for a name: the first letters of its first and last words ("Ada Lovelace" AL, "mary_jane"
    MJ, "alice" A), or the first character of a Chinese, Japanese or Korean name ("王小明" 王). Empty when the
    name has no letter or digit (only emoji, say)."""
    words = (w for w in _WORD_BREAKS.split(unicodedata.normalize("NFC", text)) if w)
    firsts = [c for c in (next((c for c in w if c.isalnum()), "") for w in words) if c]
    if not firsts:
        return ""
    if _is_cjk(firsts[0]):
        return firsts[0]
    letters = [firsts[0]]
    if len(firsts) > 1 and not _is_cjk(firsts[-1]):
        letters.append(firsts[-1])
    # Upper case only where it stays one letter ("ß" would become "SS").
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in letters)


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith(_CJK)
