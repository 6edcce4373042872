"""Who is notified of which message, and why: the one rule every way of notifying (a hidden tab, Web Push, an
away email) follows.

A direct or group conversation's messages, a mention (by name, or @here), a keyword the person listed, and,
in a room they chose "everything" for, any message. Never their own, never in a room they muted, never one
they already read, and never while they have the room open in front in some tab."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..models import Membership, Mention, Message, NotificationSettings, Room

KEYWORDS = 20  # at most this many, each at most KEYWORD_LENGTH characters
KEYWORD_LENGTH = 40


class Reason(StrEnum):
    DIRECT = "direct"
    MENTION = "mention"
    KEYWORD = "keyword"
    EVERYTHING = "everything"

    @property
    def urgent(self) -> bool:
        """Addressed to the person: worth an email when it waits unread."""
        return self is not Reason.EVERYTHING


@dataclass(frozen=True, slots=True)
class Alert:
    user_id: int
    message: Message
    reason: Reason


def keywords(text: str) -> list[str]:
    """The person's keywords as written on the settings page: one per line or separated by commas."""
    words = (w.strip() for w in re.split(r"[,\n，、]", text))
    unique = dict.fromkeys(w for w in words if w)
    return [w[:KEYWORD_LENGTH] for w in unique][:KEYWORDS]


def keyword_pattern(text: str) -> re.Pattern | None:
    """A keyword matches as a whole word, any case ("deploy" in "Deploy done", not in "redeployed"); a word
    in a script without spaces (Chinese) matches wherever it appears."""
    words = keywords(text)
    if not words:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" if w.isascii() else re.escape(w) for w in words), re.I)


def _nobody(user_ids: set[int]) -> set[int]:
    return set()


# Who may hear of nothing now, whatever else holds: the apps built on the chat say (moderation: the banned).
barred: Callable[[set[int]], set[int]] = _nobody


@dataclass(frozen=True)
class Decision:
    alerts: list[Alert]  # in message order
    keyword_hits: list[tuple[int, Message]]  # (person, message) for every keyword found, alerted or not


def alerts(room: Room, messages: Iterable[Message], watching: set[int]) -> Decision:
    """Who hears of a room's new messages, and why. `watching`: who has the room in front now. Only its members
    (at this moment) and, in an open room, anyone it names: never someone who can no longer read it."""
    messages = [m for m in messages if m.deleted_at is None]
    if not messages:
        return Decision([], [])
    members = {
        m["user_id"]: (m["involvement"], m["last_read_seq"])
        for m in Membership.objects.filter(room=room, user__is_active=True).values(
            "user_id", "involvement", "last_read_seq"
        )
    }
    mentioned: dict[int, set[int]] = defaultdict(set)
    for message_id, user_id in Mention.objects.filter(message__in=messages, user__is_active=True).values_list(
        "message_id", "user_id"
    ):
        if user_id in members or room.kind == Room.Kind.OPEN:
            mentioned[message_id].add(user_id)
    patterns = {
        user_id: pattern
        for user_id, text in NotificationSettings.objects.filter(user_id__in=members)
        .exclude(keywords="")
        .values_list("user_id", "keywords")
        if (pattern := keyword_pattern(text)) is not None
    }
    # Only those something could alert: in a big room set to mentions, a few people, not every member.
    everyone = room.kind in Room.CONVERSATIONS
    listening = {u for u, (level, _) in members.items() if everyone or level == Membership.Involvement.EVERYTHING}
    found, hits = [], []
    for message in messages:
        # Each keyword searched once per message: the hits are stored, and they are a reason to alert.
        keyed = [u for u, p in patterns.items() if u != message.author_id and p.search(message.body)]
        hits += [(u, message) for u in keyed]
        for user_id in listening | mentioned[message.pk] | set(keyed):
            if user_id == message.author_id or user_id in watching:
                continue
            involvement, read = members.get(user_id, (Membership.Involvement.MENTIONS, 0))
            if involvement == Membership.Involvement.NOTHING or read >= message.seq:
                continue
            if (reason := _reason(room, user_id, involvement, mentioned[message.pk], keyed)) is not None:
                found.append(Alert(user_id, message, reason))
    if found and (barred_now := barred({a.user_id for a in found})):  # asked of those alerted only
        found = [a for a in found if a.user_id not in barred_now]
    return Decision(found, hits)


def _reason(room: Room, user_id: int, involvement: str, named: set[int], keyed: list[int]) -> Reason | None:
    """Why a message alerts the person: `named` are those it mentions, `keyed` those whose keyword it has."""
    if room.kind in Room.CONVERSATIONS:
        return Reason.DIRECT
    if user_id in named:
        return Reason.MENTION
    if user_id in keyed:
        return Reason.KEYWORD
    if involvement == Membership.Involvement.EVERYTHING:
        return Reason.EVERYTHING
    return None
