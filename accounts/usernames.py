"""Usernames that could pass for someone else's: Unicode look-alikes (UTS #39 confusables) and mixed alphabets.

The confusables data is Unicode's, through the confusable_homoglyphs package.
"""

from __future__ import annotations

import unicodedata

from confusable_homoglyphs import categories, confusables
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MIXED_ALPHABETS = _("Use letters from one alphabet only: a username that mixes alphabets can pass for someone else's.")
LOOKS_TAKEN = _("This username looks the same as an existing one. Choose a name that looks different.")

# Letters and digits are shown as these scripts' own; other scripts' look-alikes are compared to them.
_PLAIN = ["latin", "common"]


def normalize(name: str) -> str:
    """NFKC, as Django normalises usernames: "admin" in fullwidth letters is "admin", ligatures are letters."""
    return unicodedata.normalize("NFKC", name)


def skeleton(name: str) -> str:
    """How the name looks: case folded, and every character that looks like a Latin letter or a digit replaced
    by it ("poe" written in Cyrillic letters is "poe")."""
    shown = []
    for char in normalize(name).casefold():
        found = confusables.is_confusable(char, greedy=True, preferred_aliases=_PLAIN) or [{"homoglyphs": []}]
        plain = [h["c"] for h in found[0]["homoglyphs"] if categories.alias(h["c"][0]).lower() in _PLAIN]
        shown.append(plain[0] if plain else char)
    return "".join(shown).casefold()


# Scripts written together (UTS #39's "highly restrictive" level): Japanese is Han with kana, Korean Han with
# Hangul, Chinese may use Bopomofo; each may also have Latin letters in it ("john田中").
_WRITTEN_TOGETHER = [
    {"HAN", "HIRAGANA", "KATAKANA", "LATIN"},
    {"HAN", "HANGUL", "LATIN"},
    {"HAN", "BOPOMOFO", "LATIN"},
]


def mixes_alphabets(name: str) -> bool:
    """Letters from more than one script, unless they are scripts one language writes together."""
    scripts = {categories.alias(char) for char in name} - {"COMMON", "INHERITED"}
    if len(scripts) <= 1:
        return False
    return not any(scripts <= together for together in _WRITTEN_TOGETHER)


def check_lookalike(name: str) -> None:
    """Refuse a (normalised) username that mixes alphabets, or looks like an existing person's."""
    if mixes_alphabets(name):
        raise ValidationError(MIXED_ALPHABETS, code="mixed_alphabets")
    looks = skeleton(name)
    # Another name can look like this one only if it is this look in plain letters, or has letters outside
    # ASCII (names are letters, digits and @.+-_); the exact name, in any case, is allauth's "taken" check.
    candidates = (
        get_user_model()
        ._default_manager.filter(Q(username__iexact=looks) | ~Q(username__regex=r"^[ -~]*$"))
        .exclude(username__iexact=name)
    )
    if any(skeleton(other) == looks for other in candidates.values_list("username", flat=True).iterator()):
        raise ValidationError(LOOKS_TAKEN, code="lookalike")
