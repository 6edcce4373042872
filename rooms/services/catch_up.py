"""Catch-up: a page that was away gets every change to its room since the last one it has, exactly once."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext

from .. import access, frames
from ..errors import ChatError
from ..models import Message

# A page that missed more changes than this, or more than this many bytes of them, reloads instead of
# replaying them one by one: a catch-up costs at most that much rendering and memory, whoever asks how often.
CATCH_UP_LIMIT = 200
CATCH_UP_MAX_BYTES = 512 * 1024
# About what a message's markup adds to its rendered text (author, avatar, times, links).
MESSAGE_MARKUP_BYTES = 600


def catch_up_frame(user: AbstractBaseUser, room_id: int, after: int) -> str:
    """Every change to the room after change number `after`: new, edited and deleted messages, in order."""
    room = access.readable_room(user, room_id)
    if room is None:
        raise ChatError(gettext("That conversation does not exist."))
    # A message posted and then edited or deleted comes once, under its latest number, so the page cannot
    # count its way up: the frame says it is complete up to the room's last change (read before the query).
    changes = list(
        room.messages.filter(changed_seq__gt=after).for_display().order_by("changed_seq")[: CATCH_UP_LIMIT + 1]
    )
    # Too much to replay is found before rendering (the cost), and the rendered frame measured (the ceiling).
    if len(changes) > CATCH_UP_LIMIT or _text_size(changes) > CATCH_UP_MAX_BYTES:
        return frames.reload_frame()
    frame = frames.messages_frame(room.pk, changes, upto=room.last_seq)
    # The room's lock as it is now: a page that was away when it changed shows it right.
    frame += frames.room_state_frame(room)
    if len(frame) * 4 > CATCH_UP_MAX_BYTES and len(frame.encode()) > CATCH_UP_MAX_BYTES:
        return frames.reload_frame()
    return frame


def _text_size(messages: list[Message]) -> int:
    """About the bytes these messages take rendered, found without rendering them: their stored HTML (a
    character can take several bytes there: "<" is "&lt;", a bare link a whole <a>) plus each one's markup."""
    size = 0
    for message in messages:
        size += MESSAGE_MARKUP_BYTES
        if not message.is_deleted:  # a tombstone is markup only
            size += len(message.html.encode())
        if size > CATCH_UP_MAX_BYTES:
            break
    return size
