"""Conversations: direct (one per pair of people, started by its first message, a POST) and group (one per set
of 3 to 16 people, started from the people list). Their people are fixed: adding someone to a group starts a
new one, as Slack does, so nobody reads history they were not part of."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext, ngettext, pgettext

import realtime

from .. import frames, naming
from ..errors import ChatError
from ..models import Membership, Room
from .messages import clean_body, post_message


def _people_key(user_ids: Iterable[int]) -> str:
    """The same whoever starts it, so a set of people has exactly one conversation."""
    return ":".join(str(pk) for pk in sorted(set(user_ids)))


def _direct_key(user: AbstractBaseUser, other: AbstractBaseUser) -> str:
    return _people_key([user.pk, other.pk])


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


def group_room(user: AbstractBaseUser, other_ids: Iterable[int]) -> Room:
    """The group conversation of this person and the others chosen (3 to 16 people in all, every one active):
    the one they already have, or a new one, which each of them sees listed from its first message."""
    low, high = Room.GROUP_SIZE
    ids = {pk for pk in other_ids if pk != user.pk}
    if not low <= len(ids) + 1 <= high:
        raise ChatError(
            ngettext(
                "A group conversation has from %(low)s to %(high)s people: choose %(fewest)s other person or more.",
                "A group conversation has from %(low)s to %(high)s people: choose %(fewest)s to %(most)s others.",
                low - 1,
            )
            % {"low": low, "high": high, "fewest": low - 1, "most": high - 1}
        )
    others = list(get_user_model().objects.filter(pk__in=ids, is_active=True))
    if len(others) != len(ids):
        raise ChatError(gettext("Some of the people chosen no longer have an account here."))
    key = _people_key([user.pk, *ids])
    if (room := Room.objects.filter(direct_key=key).first()) is not None:
        return room
    try:
        with transaction.atomic():
            room = Room.objects.create(kind=Room.Kind.GROUP, direct_key=key, created_by=user)
            Membership.objects.bulk_create([Membership(room=room, user=u) for u in [user, *others]])
    except IntegrityError:  # started by someone else of them at the same moment
        return Room.objects.get(direct_key=key)
    entry = frames.group_entry_frame(room, [user, *others])
    transaction.on_commit(lambda: realtime.subscribe(user.pk, room.pk, entry), robust=True)
    for other in others:
        transaction.on_commit(lambda pk=other.pk: realtime.subscribe(pk, room.pk, ""), robust=True)
    return room


def group_name(people: Iterable[AbstractBaseUser], viewer_id: int) -> str:
    """A group conversation is called by its other people's names, as the viewer's sidebar lists it."""
    return pgettext("between names in a list", ", ").join(naming.shown_name(p) for p in people if p.pk != viewer_id)


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
