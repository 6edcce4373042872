"""Mentions: whom a message's @names can name, who @here reaches, the rows the Mentions page and the sidebar's
mention badges read, and the composer's suggestions after "@"."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from realtime import presence

from .. import access, formatting, mentions, naming
from ..errors import ChatError
from ..models import Membership, Mention, Message, Room

SUGGESTIONS = 8
PAGE_SIZE = 30


def _people(room: Room) -> QuerySet:
    """Who may be named in the room: whoever can read it (an open room: everyone with an account)."""
    people = get_user_model().objects.filter(is_active=True)
    return people if room.kind == Room.Kind.OPEN else people.filter(memberships__room=room)


def render(user: AbstractBaseUser, room_id: int, body: str, before: str | None = None) -> formatting.Rendered:
    """The message rendered with its @names linked; a refusal if it says @here where it may not (an edit of a
    message that already said it is not asked again: fixing a typo must not fail once the room has grown).
    `before`: an edit's HTML before it. Messages without "@" (most) cost no query."""
    if "@" not in body:
        return formatting.render_message(body)
    room = Room.objects.filter(pk=room_id).first()
    names = mentions.candidates(body)
    if room is None or not names:
        return formatting.render_message(body)
    found = _people(room).annotate(lower=Lower("username")).filter(lower__in=names).values_list("pk", "username")
    people = {username.lower(): mentions.Person(pk, _card(username)) for pk, username in found}
    rendered = formatting.render_message(body, people, here=mentions.HERE in names)
    if rendered.here and not (before and mentions.says_here(before)):
        _check_here(user, room)
    return rendered


def _card(username: str) -> str:
    return reverse("person_card", kwargs={"username": username})


def _check_here(user: AbstractBaseUser, room: Room) -> None:
    members = Membership.objects.filter(room=room)
    if not members.filter(user=user).exists():
        raise ChatError(gettext("Only members of this room can use @here."), code="here")
    if not room.here_limit:
        raise ChatError(gettext("@here is turned off in this room. Mention people by name instead."), code="here")
    count = members.count()
    if count > room.here_limit:
        raise ChatError(
            ngettext(
                "@here reaches everyone with the room open, so it is kept to rooms of at most %(limit)s member; "
                "this one has %(count)s. Mention people by name instead.",
                "@here reaches everyone with the room open, so it is kept to rooms of at most %(limit)s members; "
                "this one has %(count)s. Mention people by name instead.",
                room.here_limit,
            )
            % {"limit": room.here_limit, "count": count},
            code="here",
        )


def _here_allowed(user: AbstractBaseUser, room: Room) -> bool:
    try:
        _check_here(user, room)
    except ChatError:
        return False
    return True


def _here(room_id: int) -> set[int]:
    try:
        return async_to_sync(presence.viewers_of)(room_id)
    except Exception:  # presence is best effort: @here then reaches only the people it names
        return set()


def record(message: Message, rendered: formatting.Rendered, *, before: str | None = None) -> None:
    """The rows for whom the message mentions: the people it names and, for @here, those with the room open
    when it was said; never its author. `before`: an edit's HTML before it. An edit drops the rows of people
    it no longer names; those its @here reached stay while it still says @here, and nobody new is reached
    by it unless the edit is what adds it."""
    reached = set(rendered.mentioned)
    named = Mention.objects.filter(message=message, keyword=False)  # a keyword's rows are the pass's, not the text's
    current = set(named.values_list("user_id", flat=True)) if before else set()
    if rendered.here:
        if before and mentions.says_here(before):
            reached |= current - mentions.named_in(before)  # whom @here reached then
        else:
            reached |= _here(message.room_id)
    reached.discard(message.author_id)
    if stale := current - reached:
        named.filter(user_id__in=stale).delete()
    if new := reached - current:
        Mention.objects.bulk_create([Mention(message=message, user_id=u) for u in new], ignore_conflicts=True)


def mentions_of(user: AbstractBaseUser, before: int | None = None) -> tuple[list[Mention], bool]:
    """The messages that mention the person, newest first, in rooms they can still read; and whether older
    ones remain (`before`: a message id, the page's last)."""
    rows = (
        Mention.objects.filter(user=user, message__deleted_at__isnull=True)
        .filter(message__room__in=Room.objects.filter(access.readable(user)))
        .select_related("message__room", "message__author", *(f"message__author__{r}" for r in naming.load_with_user))
        .order_by("-message_id")  # when the message was written, not when an edit added the mention
    )
    if before is not None:
        rows = rows.filter(message_id__lt=before)
    page = list(rows[: PAGE_SIZE + 1])
    return page[:PAGE_SIZE], len(page) > PAGE_SIZE


def suggest_mentions(user: AbstractBaseUser, room: Room, query: str) -> list[tuple[str, str]]:
    """The composer's list after "@": (username, shown name) of the room's people (a direct conversation's
    partner) whose username or name starts with `query`, members first; @here where the room allows it."""
    query = query.strip()
    match = Q()
    for field in naming.name_fields:
        match |= Q(**{f"{field}__istartswith": query})
    people = _people(room).exclude(pk=user.pk).filter(match).select_related(*naming.load_with_user)
    members = people.filter(memberships__room=room).order_by("username")[:SUGGESTIONS]
    found = list(members)
    if len(found) < SUGGESTIONS and room.kind == Room.Kind.OPEN:
        found += people.exclude(pk__in=[p.pk for p in found]).order_by("username")[: SUGGESTIONS - len(found)]
    suggestions = [(p.get_username(), naming.shown_name(p)) for p in found]
    if mentions.HERE.startswith(query.lower()) and not room.is_direct and _here_allowed(user, room):
        suggestions.append((mentions.HERE, gettext("everyone with this room open")))
    return suggestions
