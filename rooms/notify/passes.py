"""The notification pass: a sent message asks for one (messages.post_message, on commit), and the task worker
runs it a moment later over every message of the room since the last, never on the send path. A burst of
messages is one pass, so one notification per person and room, with a count.

Each person alerted (decide.py) hears of it one way: a pushed frame if they have a page open anywhere (a
hidden tab shows it: static/js/notifications.js), else Web Push to their devices (push.py). What mentions or
messages them directly also schedules an away email (away.py), sent only if it is still unread then."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections import defaultdict

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.tasks import task
from django.utils import timezone

import realtime
from realtime import presence

from .. import frames, naming
from ..models import Mention, Message, NotificationSettings, Room, RoomNotified
from . import away, content, push
from .decide import Alert, Decision, alerts

log = logging.getLogger(__name__)

WINDOW = 2.0  # seconds a pass waits for more of a burst
BATCH = 500  # messages one pass takes at most; the rest are the next pass's
FRESH = dt.timedelta(hours=1)  # older messages (a worker that was down) notify nobody now: the away email tells
MARGIN = 0.2  # seconds of clock difference between processes allowed for
ASKED_MAX = 10_000  # rooms this process remembers a pass for
_covered: dict[int, float] = {}  # room id -> until when (time.time()) a pass is sure to start later than now


def _due_key(room_id: int) -> str:
    return f"notify:due:{room_id}"


def ask(room_id: int, seq: int) -> None:
    """After a message (its `seq`) is committed: a pass over the room soon, unless one is already due.

    The cache key says a pass is due and when it starts (it is deleted when it does), for every process (with
    Redis; a process's own cache in the embedded setup). A message committed before that start is the pass's,
    so until then this process asks nothing more of the cache: most messages of a busy room cost no round trip.
    """
    now = time.time()
    if now < _covered.get(room_id, 0.0):
        return
    starts = now + WINDOW
    try:
        # One round trip when a pass is due (a GET), two when not; the value is when it starts.
        due = cache.get_or_set(_due_key(room_id), starts, timeout=60 if settings.REDIS_URL else WINDOW)
    except Exception:  # the cache (Redis) is down: the messages are sent; their pass comes with a later one
        log.warning("notifications: no pass asked for room %s, the cache is unavailable", room_id)
        return
    if len(_covered) >= ASKED_MAX:
        _covered.clear()
    _covered[room_id] = due - MARGIN  # past already if that pass is late: then the next message asks again
    if due == starts:  # this call set it
        notify_room.using(run_after=dt.datetime.fromtimestamp(starts, dt.UTC)).enqueue(room_id, seq)


@task()
def notify_room(room_id: int, seq: int) -> None:
    cache.delete(_due_key(room_id))
    with transaction.atomic():
        # Two passes of one room (one per worker without a shared cache) take turns, each message seen once.
        mark, _ = RoomNotified.objects.select_for_update().get_or_create(room_id=room_id, defaults={"upto": seq - 1})
        room = Room.objects.filter(pk=room_id).first()
        news = list(
            Message.objects.filter(room_id=room_id, seq__gt=mark.upto)
            .select_related("author", *(f"author__{r}" for r in naming.load_with_user))
            .prefetch_related("attachments")  # a message of files alone is told by their names
            .order_by("seq")[:BATCH]
        )
        if room is None or not news:
            return
        mark.upto = news[-1].seq
        mark.save(update_fields=["upto"])
    if len(news) == BATCH:
        notify_room.enqueue(room_id, mark.upto + 1)
    news = [m for m in news if m.created_at > timezone.now() - FRESH]
    try:
        watching = async_to_sync(presence.watching)(room_id)
    except Exception:  # presence is best effort: then the read marks alone keep readers from being notified
        log.exception("notifications: presence unavailable for room %s", room_id)
        watching = set()
    deliver(room, alerts(room, news, watching))


def deliver(room: Room, decision: Decision) -> None:
    """Each way of notifying on its own: one failing (a push service, the layer) does not stop the others."""
    # Keywords count as mentions: the Mentions page and its badge list them, and the away email finds them.
    keyword_rows = [Mention(message=m, user_id=u, keyword=True) for u, m in decision.keyword_hits]
    Mention.objects.bulk_create(keyword_rows, ignore_conflicts=True)
    by_person: dict[int, list[Alert]] = defaultdict(list)
    for alert in decision.alerts:
        by_person[alert.user_id].append(alert)
    if not by_person:
        return
    away.schedule({a.user_id for a in decision.alerts if a.reason.urgent})
    try:
        online = async_to_sync(presence.online_users)(list(by_person))
    except Exception:
        log.exception("notifications: presence unavailable; pushing to devices instead")
        online = set()
    silenced = NotificationSettings.objects.filter(user_id__in=by_person, sound=False)
    quiet = set(silenced.values_list("user_id", flat=True))
    try:
        _to_pages(room, {u: a for u, a in by_person.items() if u in online}, quiet)
    except Exception:
        log.exception("notifications: the pages of room %s's readers were not told", room.pk)
    push.send_alerts(room, {u: a for u, a in by_person.items() if u not in online}, quiet)


def _to_pages(room: Room, by_person: dict[int, list[Alert]], quiet: set[int]) -> None:
    """A frame to each person's pages (a hidden one shows it): rendered once for everyone alerted by the same
    messages in the same way (in a room set to "everything", all of its readers). `quiet`: without sound."""
    alike: dict[tuple, list[int]] = defaultdict(list)
    for user_id, mine in by_person.items():
        alike[tuple(a.message.pk for a in mine), content.mentioned(mine), user_id in quiet].append(user_id)
    for (_, _, silent), people in alike.items():
        mine = by_person[people[0]]
        notice = functools.partial(content.notice, room, mine, silent=silent)
        frame = frames.localized(lambda notice=notice: frames.notification_frame(notice()))
        realtime.send_frames({realtime.user_group(u): frame for u in people})
