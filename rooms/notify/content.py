"""What a notification says, in the reader's language: one per person and room for a pass's messages (a burst
is one notification with a count), the same shape for a hidden tab (a pushed frame) and Web Push (the
payload the service worker shows: static/sw.js)."""

from __future__ import annotations

import html
import re

from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext, pgettext

from .. import naming
from ..models import Message, Room
from .decide import Alert, Reason

EXCERPT = 140  # characters of the message shown


def excerpt(message: Message) -> str:
    """The message as one line of plain text, or, for files alone, their names."""
    text = re.sub(r"\s+", " ", html.unescape(strip_tags(message.html))).strip()
    if not text:
        files = message.files
        text = "📎 " + pgettext("between names in a list", ", ").join(f.name for f in files) if files else ""
    return Truncator(text).chars(EXCERPT)


def mentioned(alerts: list[Alert]) -> bool:
    return any(a.reason in (Reason.MENTION, Reason.KEYWORD) for a in alerts)


def notice(room: Room, alerts: list[Alert], *, silent: bool = False) -> dict:
    """One person's notification for a room's alerts (theirs, in order), in the active language. `many` is the
    line for a count that grows ("{count}" in it): the service worker adds to what it still shows. `id` names
    it, so the several hidden tabs of one person that hand it over show it once."""
    latest = alerts[-1].message
    author = naming.shown_name(latest.author)
    if room.kind in Room.CONVERSATIONS:
        title, line = author, excerpt(latest)
    else:
        title = gettext("#%(room)s") % {"room": room.name}
        line = f"{author}: {excerpt(latest)}"
    if mentioned(alerts) and room.kind not in Room.CONVERSATIONS:
        title = gettext("%(name)s mentioned you in #%(room)s") % {"name": author, "room": room.name}
    count = len(alerts)
    many = ngettext("%(count)s new message", "%(count)s new messages", 2) % {"count": "{count}"}
    return {
        "title": title,
        "line": line,
        "many": many,
        "count": count,
        "body": line if count == 1 else f"{many.replace('{count}', str(count))}\n{line}",
        "url": reverse("rooms:permalink", args=[latest.pk]),
        "tag": f"room-{room.pk}",
        "id": f"{room.pk}-{latest.pk}-{count}",
        "silent": silent,
    }


def test_notice() -> dict:
    line = gettext("This is a test notification. Notifications reach this device.")
    return {
        "title": "Roomcast",
        "line": line,
        "many": "",
        "count": 1,
        "body": line,
        "url": reverse("rooms:notifications"),
        "tag": "test",
        "silent": False,
    }
