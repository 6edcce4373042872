"""Who is in a room, and what a room is: leaving, inviting, removing, how much of it reaches a person (their
involvement), its settings (name, topic, description), making it private or open, archiving it.

Each change reaches open pages at once, on commit: the person's own (their sidebar, the room's page) through
their group, the room's members panel through its viewers. Someone who may no longer read a room (removed, or
it became private without them) stops receiving it at once: the hubs drop their sockets from its group
(realtime.unsubscribe) before any later frame of it goes out.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

import realtime

from .. import access, frames, signals
from ..errors import ChatError
from ..models import Membership, Room
from .rooms import clean_room_name, join, members_changed, new_address


def may_manage(user: AbstractBaseUser, room: Room) -> bool:
    """Settings, removing people, archiving: the room's creator, or a moderator."""
    return room.is_room and (room.created_by_id == user.pk or access.is_moderator(user))


def may_invite(user: AbstractBaseUser, room: Room, *, member: bool) -> bool:
    """Any member of a room (private or open), or a moderator, while it is not archived."""
    return room.is_room and not room.is_archived and (member or access.is_moderator(user))


def _rooms_only(room: Room) -> None:
    if not room.is_room:
        raise ChatError(gettext("A conversation's people are fixed: start a new one to talk with others."))


def leave(user: AbstractBaseUser, room: Room) -> None:
    """The person leaves a room: it leaves their sidebar, and a private one their reach (every tab of theirs
    stops receiving it). A conversation cannot be left: it is muted instead (involvement "nothing")."""
    _rooms_only(room)
    with transaction.atomic():
        _hold(room)
        mine = Membership.objects.filter(room=room, user=user)
        if room.is_private and mine.exists() and not Membership.objects.filter(room=room).exclude(user=user).exists():
            raise ChatError(
                gettext("You are the last one in this private room: invite someone first, or archive it instead.")
            )
        deleted, _ = mine.delete()
        if deleted:
            _gone(room, user.pk, frames.gone_frame(room, "left"))


def invite(actor: AbstractBaseUser, room: Room, username: str) -> AbstractBaseUser:
    """Add someone to a room; they hear of it at once, on every open page (the room joins their sidebar)."""
    if room.is_archived:
        raise ChatError(str(access.ARCHIVED))
    if not may_invite(actor, room, member=Membership.objects.filter(room=room, user=actor).exists()):
        raise ChatError(gettext("Only the room's members can invite people to it."))
    username = username.strip().removeprefix("@")
    invitee = get_user_model().objects.filter(username=username, is_active=True).first()
    if invitee is None:
        raise ChatError(gettext("Nobody here is called “%(name)s”.") % {"name": username})
    with transaction.atomic():
        if Membership.objects.filter(room=room, user=invitee).exists():
            raise ChatError(gettext("%(name)s is already in #%(room)s.") % {"name": username, "room": room.name})
        try:
            join(invitee, room)
        except IntegrityError:  # invited twice at the same moment
            raise ChatError(
                gettext("%(name)s is already in #%(room)s.") % {"name": username, "room": room.name}
            ) from None
        notice = frames.invited_frame(room, actor)
        transaction.on_commit(lambda: realtime.send_frames({realtime.user_group(invitee.pk): notice}), robust=True)
    return invitee


def remove_member(actor: AbstractBaseUser, room: Room, user_id: int) -> None:
    """The creator of a private room or a moderator takes someone out of it: their pages stop receiving it at
    once, and a page of theirs showing it says so. (Anyone may join an open room again at once: there, a
    moderator mutes or bans instead.)"""
    if not room.is_private:
        raise ChatError(gettext("Anyone may join an open room: make it private first, or ask a moderator to mute."))
    if not may_manage(actor, room):
        raise ChatError(gettext("Only the room's creator or a moderator can remove people from it."))
    if user_id == actor.pk:
        raise ChatError(gettext("To leave the room yourself, use Leave."))
    with transaction.atomic():
        _hold(room)
        deleted, _ = Membership.objects.filter(room=room, user_id=user_id).delete()
        if not deleted:
            raise ChatError(gettext("That person is not in this room."))
        _gone(room, user_id, frames.gone_frame(room, "removed"))


def _hold(room: Room) -> None:
    """The room's row, held until commit: who leaves or is removed is decided one at a time (so a private room
    cannot be left empty by two leaving at once), and after the sends already under way (each takes the row)."""
    Room.objects.select_for_update().filter(pk=room.pk).first()


def _gone(room: Room, user_id: int, frame: realtime.Html) -> None:
    """A person is out of a room (in a transaction): once committed, their sockets stop following it and get
    `frame` (the sidebar entry goes; the room's page says why); an open room's page, which anyone may read,
    stays live only after a reload."""
    transaction.on_commit(lambda: realtime.unsubscribe(room.pk, frame, user_id=user_id), robust=True)
    members_changed(room)


def set_involvement(user: AbstractBaseUser, room_id: int, level: str) -> None:
    """How much of a room reaches the person: every tab's sidebar shows it at once."""
    if level not in Membership.Involvement.values:
        raise ChatError(gettext("That is not a choice here."))
    with transaction.atomic():
        if not Membership.objects.filter(room_id=room_id, user=user).update(involvement=level):
            raise ChatError(gettext("Join the room first."))
        frame = frames.involvement_frame(room_id, level)
        transaction.on_commit(lambda: realtime.send_frames({realtime.user_group(user.pk): frame}), robust=True)


def update_settings(
    actor: AbstractBaseUser, room: Room, name: str, topic: str, description: str, private: bool | None = None
) -> Room:
    """Name, topic and description, by the creator or a moderator, and, by a moderator, private or open
    (`private`; None leaves it), all or nothing. The address stays (links keep working)."""
    if not may_manage(actor, room):
        raise ChatError(gettext("Only the room's creator or a moderator can change its settings."))
    with transaction.atomic():
        room.name = clean_room_name(name, private=room.is_private, renaming=room)
        room.topic, room.description = " ".join(topic.split()), description.strip()
        room.save(update_fields=["name", "topic", "description"])
        if private is not None:
            set_private(actor, room, private)
        transaction.on_commit(lambda: frames.show_room_head(room), robust=True)
    return room


def set_private(actor: AbstractBaseUser, room: Room, private: bool) -> bool:
    """A moderator makes a room private (members only: everyone else's open pages of it stop receiving it at
    once) or open. A room made private moves to an address of its own (a random one, as a private room's
    always is), so that its old one, free again, tells nothing. False if it already was."""
    _rooms_only(room)
    if not access.is_moderator(actor):
        raise ChatError(gettext("Only moderators can make a room private or open."))
    kind = Room.Kind.PRIVATE if private else Room.Kind.OPEN
    if not private and room.is_private:
        clean_room_name(room.name, renaming=room)  # an open room of that name already exists
    with transaction.atomic():
        if not Room.objects.filter(pk=room.pk).exclude(kind=kind).update(kind=kind):
            return False
        room.kind = kind
        if private:
            room.slug = new_address(room.name, private=True)
            room.save(update_fields=["slug"])
            members = list(Membership.objects.filter(room=room).values_list("user_id", flat=True))
            frame = frames.gone_frame(room, "private")
            transaction.on_commit(lambda: realtime.unsubscribe(room.pk, frame, keep=members), robust=True)
        transaction.on_commit(lambda: frames.show_room_head(room), robust=True)
        signals.room_changed.send(sender=Room, actor=actor, room=room, change="private" if private else "open")
    return True


def set_archived(actor: AbstractBaseUser, room: Room, archived: bool, reason: str = "") -> bool:
    """Archive a room (read-only for everyone, moderators included; out of the room list and its members'
    sidebars; still readable by whoever could, and searchable) or bring it back, by its creator or a moderator;
    its open pages change at once. Archiving locks it, so the one-statement send refuses writes as it does for
    a lock; bringing it back unlocks it. False if it already was."""
    _rooms_only(room)
    if not may_manage(actor, room):
        raise ChatError(gettext("Only the room's creator or a moderator can archive it."))
    with transaction.atomic():
        now = timezone.now() if archived else None
        changed = Room.objects.filter(pk=room.pk, archived_at__isnull=archived).update(archived_at=now, locked=archived)
        if not changed:
            return False
        room.archived_at, room.locked = now, archived
        transaction.on_commit(lambda: frames.show_room_state(room, archived=archived), robust=True)
        change = "archive" if archived else "unarchive"
        signals.room_changed.send(sender=Room, actor=actor, room=room, change=change, reason=reason)
    return True
