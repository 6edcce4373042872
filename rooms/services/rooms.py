"""Rooms: the list of open ones, creating one (open or private), joining (a POST: looking at a room joins
nothing), and who is in one. Leaving, inviting and removing are services/membership.py."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import slugify
from django.utils.translation import gettext

import realtime

from .. import access, frames
from ..errors import ChatError
from ..models import Membership, Room

MEMBERS_SHOWN = 100  # a room page lists this many of its people; the count says how many more there are


def room_list(user: AbstractBaseUser, search: str = "") -> QuerySet[Room]:
    """The rooms a person can find: open ones, and the private ones they are in, not archived, by name, each
    with its member count, optionally only those whose name contains `search`. The count is a subquery, so a
    page of the list counts its own rooms' members only."""
    members = Membership.objects.filter(room=OuterRef("pk")).order_by().values("room").annotate(n=Count("pk"))
    rooms = Room.objects.filter(access.readable(user), kind__in=Room.ROOMS, archived_at__isnull=True)
    if search := " ".join(search.split()):
        rooms = rooms.filter(name__icontains=search)
    return rooms.annotate(member_count=Coalesce(Subquery(members.values("n")), 0)).order_by("name", "pk")


def clean_room_name(name: str, *, private: bool = False, renaming: Room | None = None) -> str:
    """A room's name, tidied; or why it cannot be. Open rooms' names are unique (people find them by name);
    a private room's is never checked against any other room, so that naming a room cannot reveal that a
    private one of that name exists."""
    name = " ".join(name.split())
    if not name:
        raise ChatError(gettext("A room needs a name."))
    if not (slug := slugify(name, allow_unicode=True)):
        raise ChatError(gettext("A room name needs at least one letter or digit."))
    # The same name, or one that reads the same as an address ("General" and "GENERAL!").
    same = Room.objects.filter(Q(name__iexact=name) | Q(slug=slug), kind=Room.Kind.OPEN)
    if not private and same.exclude(pk=renaming.pk if renaming else None).exists():
        raise ChatError(_taken(name))
    return name


def _taken(name: str) -> str:
    return gettext("A room called “%(name)s” already exists.") % {"name": name}


def new_address(name: str, *, private: bool) -> str:
    """A new room's address (slug), kept for good: renaming the room or making it private or open keeps it, so
    links and bookmarks keep working. Its name, with a random tail for a private room (its address tells
    nothing) or where another room, renamed or private, holds the plain one."""
    base = slugify(name, allow_unicode=True)[:70]
    if private or Room.objects.filter(slug=base).exists():
        return f"{base}-{secrets.token_hex(4)}"
    return base


def create_room(user: AbstractBaseUser, name: str, description: str = "", *, private: bool = False) -> Room:
    name = clean_room_name(name, private=private)
    kind, slug = (Room.Kind.PRIVATE if private else Room.Kind.OPEN), new_address(name, private=private)
    try:
        with transaction.atomic():
            room = Room.objects.create(
                kind=kind, name=name, slug=slug, description=description.strip(), created_by=user
            )
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
    """Membership, made by the Join button, the first message or an invitation (the caller checks who may); the
    person's other open pages start following the room at once. An archived room gains no members."""
    if room.is_archived:
        return visit(user, room)
    membership, created = Membership.objects.get_or_create(
        room=room, user=user, defaults={"last_read_seq": room.last_seq}
    )
    if created and room.is_room:
        entry = frames.room_entry_frame(room)
        transaction.on_commit(lambda: realtime.subscribe(user.pk, room.pk, entry), robust=True)
        members_changed(room)
    return membership


def members_changed(room: Room) -> None:
    """Once committed, the room's open pages show its members panel as it is then."""
    transaction.on_commit(lambda: frames.show_members(room, *members(room)), robust=True)


def members(room: Room, limit: int = MEMBERS_SHOWN) -> tuple[list, int]:
    """Up to `limit` of the room's people, by name, with their profiles, and how many there are in all (every
    page of the room, whoever reads it, lists the same)."""
    rows = room.memberships.select_related("user__profile").order_by("user__username")
    shown = [m.user for m in rows[:limit]]
    return shown, len(shown) if len(shown) < limit else rows.count()  # counted only when there are more


def room_ids_of(user_id: int) -> list[int]:
    """The rooms and group conversations this person belongs to: their members panels show the person's dot."""
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
