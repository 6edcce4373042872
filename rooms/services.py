"""The one path for rooms and messages: validation, permission, saving, rendering and fan-out.

Views and consumers parse input, call a function here and return its result or its ChatError.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Prefetch, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from . import realtime
from .models import Membership, Message, Room

User = get_user_model()
PARTIALS = "rooms/partials.html"


class ChatError(Exception):
    """A refusal the user should read, e.g. "Message is empty."."""


@dataclass(frozen=True)
class PostResult:
    message: Message
    created: bool


# ---- rooms ---------------------------------------------------------------------------------------------


def room_list() -> QuerySet[Room]:
    return Room.objects.filter(kind=Room.Kind.OPEN).annotate(member_count=Count("memberships"))


def create_room(user: AbstractBaseUser, name: str, description: str = "") -> Room:
    name = " ".join(name.split())
    if not name:
        raise ChatError("A room needs a name.")
    slug = slugify(name, allow_unicode=True)
    if not slug:
        raise ChatError("A room name needs at least one letter or digit.")
    if Room.objects.filter(slug=slug).exists():
        raise ChatError(f"A room called “{name}” already exists.")
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, slug=slug, description=description.strip(), created_by=user)
            Membership.objects.create(room=room, user=user)
    except IntegrityError:
        # Lost a race with someone creating the same name.
        raise ChatError(f"A room called “{name}” already exists.") from None
    return room


def join(user: AbstractBaseUser, room: Room) -> None:
    Membership.objects.get_or_create(room=room, user=user)


def direct_room(user: AbstractBaseUser, other: AbstractBaseUser) -> Room:
    """The one conversation between two people, created on first use."""
    if user.pk == other.pk:
        raise ChatError("You can't start a conversation with yourself.")
    low, high = sorted([user.pk, other.pk])
    key = f"{low}:{high}"
    try:
        return Room.objects.get(direct_key=key)
    except Room.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            room = Room.objects.create(kind=Room.Kind.DIRECT, direct_key=key, created_by=user)
            Membership.objects.bulk_create([Membership(room=room, user=user), Membership(room=room, user=other)])
            return room
    except IntegrityError:
        return Room.objects.get(direct_key=key)


def sidebar(user: AbstractBaseUser) -> dict[str, list]:
    """The rooms the user is in and their direct conversations, each DM labelled with the other person."""
    rooms = list(
        Room.objects.filter(memberships__user=user)
        .prefetch_related(Prefetch("memberships", queryset=Membership.objects.select_related("user")))
        .order_by("-last_seq")
    )
    directs = [{"room": r, "other": other_member(r.memberships.all(), user.pk)} for r in rooms if r.is_direct]
    return {
        "rooms": sorted((r for r in rooms if not r.is_direct), key=lambda r: r.name.lower()),
        "directs": [d for d in directs if d["other"] is not None],
    }


def other_member(memberships: Iterable[Membership], user_id: int):
    """The other person in a direct conversation (None if their account is gone)."""
    return next((m.user for m in memberships if m.user_id != user_id), None)


def recent_messages(room: Room, limit: int = 50) -> list[Message]:
    latest = room.messages.visible().select_related("author").order_by("-seq")[:limit]
    return list(reversed(latest))


# ---- messages ------------------------------------------------------------------------------------------


def parse_client_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ChatError("This message could not be sent (bad client id); reload the page.") from None


def post_message(user: AbstractBaseUser, room_id: int, body: str, client_id: uuid.UUID) -> PostResult:
    """Validate, save, then broadcast on commit. A replay of an already stored client id returns that one."""
    body = body.strip()
    if not body:
        raise ChatError("Message is empty.")
    if len(body) > Message.MAX_LENGTH:
        raise ChatError(f"Message is too long: {len(body):,} characters (the limit is {Message.MAX_LENGTH:,}).")
    # scope["user"] was fixed at connect; re-check so a deactivated account cannot keep talking.
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        raise ChatError("Your account is not active.")
    room = Room.objects.accessible_to(user).filter(pk=room_id).first()
    if room is None:
        raise ChatError("That conversation does not exist.")

    existing = Message.objects.filter(author=user, client_id=client_id).first()
    if existing is not None:
        return PostResult(existing, created=False)
    try:
        with transaction.atomic():
            # The UPDATE locks the room row, so sequence numbers are handed out in commit order.
            Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
            seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
            message = Message.objects.create(room=room, author=user, seq=seq, body=body, client_id=client_id)
            Membership.objects.get_or_create(room=room, user=user)
            transaction.on_commit(lambda: broadcast_message(message))
    except IntegrityError:
        # The same send replayed concurrently through another socket: it is stored once.
        return PostResult(Message.objects.get(author=user, client_id=client_id), created=False)
    return PostResult(message, created=True)


def delete_messages(messages: QuerySet[Message], by: AbstractBaseUser) -> int:
    """Moderation: hide messages everywhere at once; the rows stay for the record."""
    doomed = list(messages.visible().select_related("room"))
    if not doomed:
        return 0
    with transaction.atomic():
        Message.objects.filter(pk__in=[m.pk for m in doomed]).update(deleted_at=timezone.now(), deleted_by=by)
        transaction.on_commit(lambda: [broadcast_deletion(m) for m in doomed])
    return len(doomed)


# ---- rendering and fan-out -----------------------------------------------------------------------------


def render_partial(name: str, context: dict) -> str:
    return render_to_string(f"{PARTIALS}#{name}", context)


def _deliver(room: Room, frame: str, per_person: Callable[[Membership, list[Membership]], str] | None = None) -> None:
    """A room's frame goes to its group; a direct room's goes point-to-point to its two people."""
    if not room.is_direct:
        realtime.send_frames({realtime.room_group(room.pk): frame})
        return
    members = list(room.memberships.select_related("user"))
    realtime.send_frames(
        {realtime.user_group(m.user_id): frame + (per_person(m, members) if per_person else "") for m in members}
    )


def broadcast_message(message: Message) -> None:
    def dm_entry(member: Membership, members: list[Membership]) -> str:
        # Each person's sidebar entry names the other one, and is unread for the one who did not write it.
        other = other_member(members, member.user_id)
        unread = member.user_id != message.author_id
        return render_partial("dm_entry_frame", {"room": message.room, "other": other, "unread": unread})

    _deliver(message.room, render_partial("message_frame", {"message": message}), dm_entry)


def broadcast_deletion(message: Message) -> None:
    _deliver(message.room, render_partial("delete_frame", {"message": message}))


def render_status(text: str = "", client_id: uuid.UUID | None = None, ok: bool = False) -> str:
    """The sender-only frame: an acknowledgement (the page clears its composer) or an error to read."""
    return render_partial("status_frame", {"text": text, "client_id": client_id or "", "ok": ok})
