"""Rooms: the list of open ones, creating one (open or private), joining (a POST: looking at a room joins
nothing), and who is in one. Leaving, inviting and removing are services/membership.py."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
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


def private_slug(name: str) -> str:
    """A private room's address: its name and a random tail. Never checked against other rooms' names, so that
    creating a room cannot reveal that a private one of that name exists."""
    return f"{slugify(name, allow_unicode=True)[:70] or 'room'}-{secrets.token_hex(4)}"


def create_room(user: AbstractBaseUser, name: str, description: str = "", *, private: bool = False) -> Room:
    if private:
        name = " ".join(name.split())
        if not name:
            raise ChatError(gettext("A room needs a name."))
        kind, slug = Room.Kind.PRIVATE, private_slug(name)
    else:
        kind, (name, slug) = Room.Kind.OPEN, clean_room_name(name)
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
