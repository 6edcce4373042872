"""Open rooms: the room list, creating one, and joining (a POST: looking at a room joins nothing)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import slugify
from django.utils.translation import gettext

import realtime

from .. import frames
from ..errors import ChatError
from ..models import Membership, Room

MEMBERS_SHOWN = 100  # a room page lists this many of its people; the count says how many more there are


def room_list(search: str = "") -> QuerySet[Room]:
    """Open rooms that are not archived, by name, each with its member count, optionally only those whose name
    contains `search`. The count is a subquery, so a page of the list counts its own rooms' members only."""
    members = Membership.objects.filter(room=OuterRef("pk")).order_by().values("room").annotate(n=Count("pk"))
    rooms = Room.objects.listed()
    if search := " ".join(search.split()):
        rooms = rooms.filter(name__icontains=search)
    return rooms.annotate(member_count=Coalesce(Subquery(members.values("n")), 0)).order_by("name", "pk")


def clean_room_name(name: str) -> tuple[str, str]:
    """A new room's name, tidied, and its address (slug); or why it cannot be."""
    name = " ".join(name.split())
    if not name:
        raise ChatError(gettext("A room needs a name."))
    slug = slugify(name, allow_unicode=True)
    if not slug:
        raise ChatError(gettext("A room name needs at least one letter or digit."))
    if Room.objects.filter(slug=slug).exists():
        raise ChatError(_taken(name))
    return name, slug


def _taken(name: str) -> str:
    return gettext("A room called “%(name)s” already exists.") % {"name": name}


def create_room(user: AbstractBaseUser, name: str, description: str = "") -> Room:
    name, slug = clean_room_name(name)
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, slug=slug, description=description.strip(), created_by=user)
            join(user, room)
    except IntegrityError:
        # Lost a race with someone creating the same name.
        raise ChatError(_taken(name)) from None
    return room


def visit(user: AbstractBaseUser, room: Room) -> Membership:
    """The person's membership, or, for someone only looking (a GET never joins), an unsaved one that has read
    everything so far."""
    existing = Membership.objects.filter(room=room, user=user).first()
    return existing or Membership(room=room, user=user, last_read_seq=room.last_seq)


def join(user: AbstractBaseUser, room: Room) -> Membership:
    """Membership, made by the Join button or the first message; the person's other open pages start following
    the room at once. An archived room gains no members."""
    if room.is_archived:
        return visit(user, room)
    membership, created = Membership.objects.get_or_create(
        room=room, user=user, defaults={"last_read_seq": room.last_seq}
    )
    if created and not room.is_direct:
        entry = frames.room_entry_frame(room)
        transaction.on_commit(lambda: realtime.subscribe(user.pk, room.pk, entry), robust=True)
    return membership


def members(room: Room, limit: int = MEMBERS_SHOWN) -> tuple[list, int]:
    """Up to `limit` of the room's people, by name, with their profiles, and how many there are in all."""
    rows = room.memberships.select_related("user__profile").order_by("user__username")
    shown = [m.user for m in rows[:limit]]
    return shown, len(shown) if len(shown) < limit else rows.count()  # counted only when there are more


def room_ids_of(user_id: int) -> list[int]:
    """The rooms (not direct conversations) this person belongs to: their members panels show the person's dot."""
    return list(
        Membership.objects.filter(user_id=user_id)
        .exclude(room__kind=Room.Kind.DIRECT)
        .values_list("room_id", flat=True)
    )


def default_rooms() -> QuerySet[Room]:
    """Where new people start (set in admin): open, not archived, by name."""
    return Room.objects.listed().filter(is_default=True).order_by("name", "pk")


def welcome(user: AbstractBaseUser) -> None:
    """A new person joins the default rooms, so their sidebar starts with something in it."""
    for room in default_rooms():
        join(user, room)
