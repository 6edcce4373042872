"""Read marks, unread counts and the sidebar they show in."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, F, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce, Greatest

import realtime

from .. import frames
from ..models import Membership, Mention, Message, Room
from .conversations import other_member


def counts(user: AbstractBaseUser) -> dict[int, tuple[int, int]]:
    """Per room: unread messages by others, and how many of them mention the person, in one query."""
    # Counted from the read mark on, along the (room, seq) index: joining all of a room's messages and
    # filtering took 20 ms per page in a room of 100,000 (bench/pages.py).
    after_mark = (
        Message.objects.filter(room=OuterRef("room_id"), seq__gt=OuterRef("last_read_seq"), deleted_at__isnull=True)
        .exclude(author=user)
        .order_by()
        .values("room")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # A person's mentions are few: read along their own rows (the unique index leads with them).
    mentioned = (
        Mention.objects.filter(
            user=user,
            message__room=OuterRef("room_id"),
            message__seq__gt=OuterRef("last_read_seq"),
            message__deleted_at__isnull=True,
        )
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = Membership.objects.filter(user=user).annotate(
        unread=Coalesce(Subquery(after_mark), 0), mentions=Coalesce(Subquery(mentioned), 0)
    )
    return {m.room_id: (m.unread, m.mentions) for m in rows}


def sidebar(user: AbstractBaseUser) -> dict[str, list]:
    """The rooms the person is in (not archived ones), by name, and their conversations, latest first: each
    direct one labelled with the other person, each group one with its people."""
    # People are loaded only to name a conversation's; an open room's thousand members stay unloaded.
    conversation_people = Membership.objects.filter(room__kind__in=Room.CONVERSATIONS).select_related("user__profile")
    rooms = list(
        Room.objects.filter(memberships__user=user)
        .annotate(involvement=F("memberships__involvement"))  # the person's own membership: the filter's join
        .prefetch_related(Prefetch("memberships", queryset=conversation_people.order_by("user__username")))
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at")
    )
    per_room = counts(user)
    conversations = []
    for r in rooms:
        if r.is_room or (r.last_message_at is None and r.created_by_id != user.pk):
            continue  # a conversation someone opened with you but never wrote in is not yours to see yet
        if r.kind == Room.Kind.GROUP:
            conversations.append(_entry(r, per_room, people=[m.user for m in r.memberships.all()]))
        elif (other := other_member(r.memberships.all(), user.pk)) is not None:
            conversations.append(_entry(r, per_room, other=other))
    named = sorted((r for r in rooms if r.is_room and not r.is_archived), key=lambda r: r.name.lower())
    return {"rooms": [_entry(r, per_room) for r in named], "directs": conversations}


def _entry(room: Room, per_room: dict[int, tuple[int, int]], **more) -> dict:
    unread, mentions = per_room.get(room.pk, (0, 0))
    return {"room": room, "unread": unread, "mentions": mentions, "involvement": room.involvement, **more}


def mark_read(user: AbstractBaseUser, room_id: int, seq: int) -> None:
    """The person has seen the room up to `seq`: every tab of theirs gets the new unread count."""
    # Never past the room's last change: a page cannot mark messages that do not exist yet as read.
    seq = min(seq, Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).first() or 0)
    with transaction.atomic():
        moved = Membership.objects.filter(room_id=room_id, user=user, last_read_seq__lt=seq).update(
            last_read_seq=Greatest("last_read_seq", seq)
        )
        if moved:
            frame = unread_frame(user, room_ids=[room_id])
            transaction.on_commit(lambda: realtime.send_frames({realtime.user_group(user.pk): frame}), robust=True)


def mark_all_read(user: AbstractBaseUser) -> None:
    """Every conversation of the person read up to its last change, in one statement; every tab hears of it."""
    with transaction.atomic():
        behind = Membership.objects.filter(user=user, last_read_seq__lt=F("room__last_seq"))
        room_ids = list(behind.values_list("room_id", flat=True))
        Membership.objects.filter(user=user, room_id__in=room_ids).update(
            last_read_seq=Subquery(Room.objects.filter(pk=OuterRef("room_id")).values("last_seq")[:1])
        )
        if room_ids:
            frame = frames.unread_frame((room_id, 0, 0) for room_id in room_ids)
            transaction.on_commit(lambda: realtime.send_frames({realtime.user_group(user.pk): frame}), robust=True)


def unread_frame(user: AbstractBaseUser, room_ids: list[int] | None = None) -> str:
    per_room = counts(user)
    if room_ids is not None:
        per_room = {r: per_room.get(r, (0, 0)) for r in room_ids}
    return frames.unread_frame((room_id, unread, mentions) for room_id, (unread, mentions) in per_room.items())
