"""Direct conversations: one per pair of people, started by its first message (a POST)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

import realtime

from .. import frames
from ..errors import ChatError
from ..models import Membership, Room
from .messages import clean_body, post_message


def _direct_key(user: AbstractBaseUser, other: AbstractBaseUser) -> str:
    """The same for both people, so a pair has exactly one conversation."""
    low, high = sorted([user.pk, other.pk])
    return f"{low}:{high}"


def direct_room(user: AbstractBaseUser, other: AbstractBaseUser) -> Room:
    """The one conversation between two people, created by its first message (start_direct)."""
    if user.pk == other.pk:
        raise ChatError(gettext("You can't start a conversation with yourself."))
    key = _direct_key(user, other)
    try:
        return Room.objects.get(direct_key=key)
    except Room.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            room = Room.objects.create(kind=Room.Kind.DIRECT, direct_key=key, created_by=user)
            Membership.objects.bulk_create([Membership(room=room, user=user), Membership(room=room, user=other)])
    except IntegrityError:
        return Room.objects.get(direct_key=key)
    # Both people's open pages follow the new room at once; only the one who opened it sees it listed until
    # its first message (see messages.post_message), so the other hears of it with that message.
    entry = frames.dm_entry_frame(room, other)
    transaction.on_commit(lambda: realtime.subscribe(user.pk, room.pk, entry), robust=True)
    transaction.on_commit(lambda: realtime.subscribe(other.pk, room.pk, ""), robust=True)
    return room


def existing_direct_room(user: AbstractBaseUser, other: AbstractBaseUser) -> Room | None:
    """The conversation between two people, if one was started."""
    return Room.objects.filter(direct_key=_direct_key(user, other)).first()


def start_direct(user: AbstractBaseUser, other: AbstractBaseUser, body: str, client_id: uuid.UUID) -> Room:
    """The first message to someone starts the conversation (a POST: looking at /dm/<name>/ starts nothing)."""
    if not other.is_active:
        raise ChatError(gettext("This account is no longer active."))
    clean_body(body)  # refused before the conversation exists, so a bad first message leaves nothing behind
    with transaction.atomic():
        room = direct_room(user, other)
        post_message(user, room.pk, body, client_id)
    return room


def other_member(memberships: Iterable[Membership], user_id: int):
    """The other person in a direct conversation (None if their account is gone)."""
    return next((m.user for m in memberships if m.user_id != user_id), None)


def dm_partner_ids(user_id: int) -> list[int]:
    """Everyone who shares a direct conversation with this person (they see their online dot)."""
    return list(
        Membership.objects.filter(room__kind=Room.Kind.DIRECT, room__memberships__user_id=user_id)
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
    )
