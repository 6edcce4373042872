"""Who may read and write where: the one statement of the rule.

Reading: an open room, anyone signed in; a direct conversation, its two members (`readable`, a Q on Room).
Writing: what one may read, unless the room is archived (nobody), the person is muted there, or it is locked
(everyone but moderators). `send_refusal` says which; the one-statement insert on PostgreSQL
(services/store.py) spells the same rule in SQL, and a contract test runs both against the same cases.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .errors import ChatError
from .models import Mute, Room

LOCKED = "This room is locked by a moderator; you can read but not write."
ARCHIVED = "This room is archived; you can read it, but nobody can write in it."


def is_moderator(user: AbstractBaseUser) -> bool:
    """The one definition of a moderator: whoever may remove anyone's message (the Moderators group, and
    superusers). The page shows moderator controls on the same permission (base.html's data-moderator)."""
    return user.has_perm("rooms.delete_message")


def when(moment: dt.datetime) -> str:
    """A moment as moderation messages show it, e.g. "2026-11-24 14:05 UTC"."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def muted_text(room: Room, until: dt.datetime, reason: str) -> str:
    where = "this conversation" if room.is_direct else f"#{room.name}"
    return f"You are muted in {where} until {when(until)}." + (f" Reason: {reason}" if reason else "")


def send_refusal(user: AbstractBaseUser, room_id: int) -> ChatError | None:
    """Why this person may not write in the room (gone or not theirs, muted, locked), in one query; None if
    nothing stands in the way (or only a lock, and this is a moderator). The one rule for sends, edits and
    typing. On PostgreSQL a send asks only after its own statement (which spells the rule out in SQL) stored
    nothing, so sends that go through pay nothing for it."""
    mutes = Mute.objects.filter(room=OuterRef("pk"), user=user, until__gt=timezone.now())
    room = (
        Room.objects.accessible_to(user)
        .filter(pk=room_id)
        .annotate(mute_until=Subquery(mutes.values("until")[:1]), mute_reason=Subquery(mutes.values("reason")[:1]))
        .first()
    )
    if room is None:
        return ChatError("That conversation does not exist.")
    if room.is_archived:  # moderators included: an archived room is the record, closed
        return ChatError(ARCHIVED)
    if room.mute_until is not None:
        return ChatError(muted_text(room, room.mute_until, room.mute_reason))
    if room.locked and not is_moderator(user):
        return ChatError(LOCKED)
    return None
