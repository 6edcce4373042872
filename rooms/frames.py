"""Every fragment pushed to pages, rendered from the same partials the pages use (templates/rooms/partials.html),
once per event and language in use (`localized`), never per reader: per-viewer touches (own messages,
moderator controls, times in the reader's zone) come from CSS, data attributes and static/js/timeline.js."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.template.loader import render_to_string
from django.utils import timezone, translation

import realtime
from realtime import presence

from . import naming
from .models import Message, Room

PARTIALS = "rooms/partials.html"


def render_partial(name: str, context: dict) -> str:
    return render_to_string(f"{PARTIALS}#{name}", context)


def localized(render: Callable[[], str]) -> realtime.Html:
    """A frame for many readers: rendered once in each language their pages are in (the hub hands each socket
    its own), with times in UTC, which each page shows in its reader's zone."""
    languages = sorted(realtime.languages_in_use() or (code for code, _ in settings.LANGUAGES))
    with timezone.override(dt.UTC):
        if len(languages) == 1:
            with translation.override(languages[0]):
                return render()
        copies = {}
        for language in languages:
            with translation.override(language):
                copies[language] = render()
        return copies


def messages_frame(room_id: int, messages: list[Message], upto: int | None = None) -> str:
    """New, edited and deleted messages of one room, in change order; `upto`: the page is complete up to that
    change number (a catch-up says so, since it sends each message once, under its latest change)."""
    return render_partial("messages_frame", {"room_id": room_id, "messages": messages, "upto": upto})


def broadcast(messages: list[Message]) -> None:
    """New, edited and deleted messages alike: one frame per room, rendered once, with that room's messages in
    change order (a moderator's bulk removal is one frame, not one per message)."""
    by_room: dict[int, list[Message]] = {}
    for message in sorted(messages, key=lambda m: m.changed_seq):
        by_room.setdefault(message.room_id, []).append(message)
    realtime.send_frames(
        {realtime.room_group(room_id): localized(_messages(room_id, changed)) for room_id, changed in by_room.items()}
    )


def _messages(room_id: int, messages: list[Message]) -> Callable[[], str]:
    return lambda: messages_frame(room_id, messages)


def room_entry_frame(room: Room) -> realtime.Html:
    """A room the person joined, for their sidebar."""
    return localized(lambda: render_partial("room_entry_frame", {"room": room, "unread": 0}))


def dm_entry_frame(room: Room, other: AbstractBaseUser) -> realtime.Html:
    """A direct conversation, for the sidebar of the person talking with `other`."""
    return localized(lambda: render_partial("dm_entry_frame", {"room": room, "other": other, "unread": 0}))


def group_entry_frame(room: Room, people: list[AbstractBaseUser]) -> realtime.Html:
    """A group conversation, for its people's sidebars: all their names, the same for each of them (each page
    leaves out its own reader's: static/js/sidebar.js)."""
    return localized(lambda: render_partial("group_entry_frame", {"room": room, "people": people, "unread": 0}))


def gone_frame(room: Room, why: str) -> realtime.Html:
    """For the pages of someone out of a room, `why`: "removed", "left", or "private" (they had it open
    without being in it when it became private). It leaves the sidebar, and its page says so."""
    return localized(lambda: render_partial("gone_frame", {"room": room, "why": why}))


def invited_frame(room: Room, by: AbstractBaseUser) -> realtime.Html:
    context = {"room": room, "by": naming.shown_name(by)}
    return localized(lambda: render_partial("invited_frame", context))


def involvement_frame(room_id: int, level: str) -> realtime.Html:
    return localized(lambda: render_partial("involvement", {"room_id": room_id, "level": level, "oob": True}))


def show_members(room: Room, people: list[AbstractBaseUser], count: int) -> None:
    """The room's members panel (the first `people` of `count`), on its open pages, with who is online."""
    online = async_to_sync(presence.online_users)([p.pk for p in people])
    context = {"room": room, "members": [{"person": p, "online": p.pk in online} for p in people], "oob": True}
    frame = localized(lambda: render_partial("members_panel", context | {"member_count": count}))
    realtime.send_frames({realtime.viewers_group(room.pk): frame})


def show_room_head(room: Room) -> None:
    """A room's name, topic and description, or whether it is private, changed: its pages' heading and its
    members' sidebars show it."""
    head = localized(lambda: render_partial("room_head", {"room": room, "oob": True}))
    link = localized(lambda: render_partial("room_link", {"room": room, "oob": True, "in_sidebar": True}))
    realtime.send_frames({realtime.viewers_group(room.pk): head})
    realtime.send_frames({realtime.room_group(room.pk): link})


def show_room_state(room: Room, *, archived: bool | None = None) -> None:
    """The room's open pages show its state as it is now (locked, archived); archiving (`archived`) also takes
    it out of its members' sidebars (bringing it back lists it again on their next page)."""
    state = localized(lambda: room_state_frame(room))
    realtime.send_frames({realtime.viewers_group(room.pk): state})
    if archived:
        realtime.send_frames({realtime.room_group(room.pk): render_partial("archived_entry_frame", {"room": room})})


def unread_frame(counts: Iterable[tuple[int, int, int]]) -> str:
    """Unread counts, (room id, unread, mentions of the person) triples, for the person's sidebar."""
    return render_partial("unread_frame", {"counts": counts})


def notification_frame(notice: dict) -> str:
    """A notification for one person's pages: a hidden one shows it (static/js/notifications.js)."""
    return render_partial("notification_frame", {"notice": json.dumps(notice, ensure_ascii=False)})


def reload_frame() -> str:
    """Too much was missed to replay: the page reloads."""
    return render_partial("reload_frame", {})


def room_state_frame(room: Room) -> str:
    """Whether the room is locked or archived: one fragment for every viewer; CSS shows or hides the composer
    per viewer (body[data-moderator])."""
    return render_partial("room_state", {"room": room, "oob": True})


def typing_frame(user: AbstractBaseUser, room_id: int) -> realtime.Html:
    context = {"room_id": room_id, "user_id": user.pk, "name": naming.shown_name(user)}
    return localized(lambda: render_partial("typing_frame", context))


def presence_frame(room_id: int, names: list[str]) -> realtime.Html:
    context = {"room_id": room_id, "names": names, "oob": True}
    return localized(lambda: render_partial("presence_frame", context))


def online_dots(online_by_user: dict[int, bool]) -> realtime.Html:
    """Pushed to the pages that show these people's dots (the sidebar's DMs, a room's members panel)."""
    return localized(lambda: dots_frame(online_by_user))


def dots_frame(online_by_user: dict[int, bool]) -> str:
    return "".join(dot_frame(user_id, online) for user_id, online in online_by_user.items())


def dot_frame(user_id: int, online: bool) -> str:
    return render_partial("dot", {"user_id": user_id, "online": online, "oob": True})


def outage_frame(down: bool) -> realtime.Html:
    return localized(lambda: render_partial("outage_frame", {"down": down}))


def render_status(
    text: str = "", client_id: uuid.UUID | str | None = None, ok: bool = False, retry: int | None = None
) -> str:
    """The sender-only frame: an acknowledgement (the page drops its pending copy), an error to read (the page
    puts the text back in the composer), or, with `retry`, "not yet": the page sends it again in that many
    milliseconds, and holds later sends behind it."""
    return render_partial("status_frame", {"text": text, "client_id": client_id or "", "ok": ok, "retry": retry})
