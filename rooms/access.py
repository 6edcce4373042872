"""Who may read and write where: the one statement of the rule.

Reading: an open room, anyone signed in; a private room, a direct or a group conversation, its members only
(`readable`, a Q on Room): leaving or being removed ends it, and to everyone else such a room does not exist.
Writing: what one may read, unless the room is archived (nobody), the person is muted there, or it is locked
(everyone but moderators). `send_refusal` says which; `write_sql` is the same rule as the SQL predicate the
one-statement insert (services/store.py) runs, and tests/test_access.py runs both against the same cases.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .errors import ChatError
from .models import Membership, Mute, Room

# Lazy: a ChatError takes str() of them when raised, in the reader's language (the room state fragment says the same).
LOCKED = _("This room is locked by a moderator; you can read but not write.")
ARCHIVED = _("This room is archived; you can read it, but nobody can write in it.")


def readable(user: AbstractBaseUser) -> Q:
    """The rooms a person may read: open rooms, and any other they are a member of."""
    mine = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Q(kind=Room.Kind.OPEN) | Exists(mine)


def readable_room(user: AbstractBaseUser, room_id: int) -> Room | None:
    return Room.objects.filter(readable(user), pk=room_id).first()


@functools.cache
def write_sql() -> str:
    """The write rule as a predicate on the room row the one-statement insert updates: readable (`readable`),
    not archived, not locked unless %(moderator)s, no mute in force. Parameters: %(room)s, %(user)s, %(open)s,
    %(moderator)s, %(now)s."""
    members, mutes = (connection.ops.quote_name(m._meta.db_table) for m in (Membership, Mute))
    return f"""(kind = %(open)s
                OR EXISTS (SELECT 1 FROM {members} WHERE room_id = %(room)s AND user_id = %(user)s))
            AND archived_at IS NULL
            AND (NOT locked OR %(moderator)s)
            AND NOT EXISTS (
                SELECT 1 FROM {mutes} WHERE room_id = %(room)s AND user_id = %(user)s AND until > %(now)s)"""


def is_moderator(user: AbstractBaseUser) -> bool:
    """The one definition of a moderator: whoever may remove anyone's message (the Moderators group, and
    superusers). The page shows moderator controls on the same permission (base.html's data-moderator)."""
    return user.has_perm("rooms.delete_message")


def when(moment: dt.datetime) -> str:
    """A moment as moderation messages show it, in the reader's time zone (the active one: a request's
    account's, a socket's page's), named, e.g. "2026-11-24 22:05 CST"; UTC when there is none."""
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def muted_text(room: Room, until: dt.datetime, reason: str) -> str:
    """The refusal a muted person reads, in the active language, the end in their zone (`when`)."""
    if room.is_conversation:
        text = gettext("You are muted in this conversation until %(when)s.") % {"when": when(until)}
    else:
        text = gettext("You are muted in #%(room)s until %(when)s.") % {"room": room.name, "when": when(until)}
    if reason:
        text += " " + gettext("Reason: %(reason)s") % {"reason": reason}
    return text


def send_refusal(user: AbstractBaseUser, room_id: int) -> ChatError | None:
    """Why this person may not write in the room (gone or not theirs, muted, locked), in one query; None if
    nothing stands in the way (or only a lock, and this is a moderator). The one rule for sends, edits and
    typing. On PostgreSQL a send asks only after its own statement (which spells the rule out in SQL) stored
    nothing, so sends that go through pay nothing for it."""
    mutes = Mute.objects.filter(room=OuterRef("pk"), user=user, until__gt=timezone.now())
    room = (
        Room.objects.filter(readable(user), pk=room_id)
        .annotate(mute_until=Subquery(mutes.values("until")[:1]), mute_reason=Subquery(mutes.values("reason")[:1]))
        .first()
    )
    if room is None:
        return ChatError(gettext("That conversation does not exist."))
    if room.is_archived:  # moderators included: an archived room is the record, closed
        return ChatError(str(ARCHIVED))
    if room.mute_until is not None:
        return ChatError(muted_text(room, room.mute_until, room.mute_reason))
    if room.locked and not is_moderator(user):
        return ChatError(str(LOCKED))
    return None
