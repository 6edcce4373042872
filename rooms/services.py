"""The one path for rooms and messages: validation, permission, saving, rendering and fan-out.

Views and consumers parse input, call a function here and return its result or its ChatError. Rooms and
direct conversations share it all; a direct room's group simply only ever holds its two people's sockets.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify

import realtime

from . import access, signals
from .errors import ChatError
from .models import Membership, Message, Mute, Room

PARTIALS = "rooms/partials.html"
PAGE_SIZE = 50
# A page that missed more changes than this, or more than this many bytes of them, reloads instead of
# replaying them one by one: a catch-up costs at most that much rendering and memory, whoever asks how often.
CATCH_UP_LIMIT = 200
CATCH_UP_MAX_BYTES = 512 * 1024
# About what a message's markup adds to its text (author, times, links, actions).
MESSAGE_MARKUP_BYTES = 600


@dataclass(frozen=True)
class PostResult:
    message: Message
    created: bool


# ---- rooms and membership ------------------------------------------------------------------------------


def room_list(search: str = "") -> QuerySet[Room]:
    """Open rooms that are not archived, by name, each with its member count, optionally only those whose name
    contains `search`. The count is a subquery, so a page of the list counts its own rooms' members only."""
    members = Membership.objects.filter(room=OuterRef("pk")).order_by().values("room").annotate(n=Count("pk"))
    rooms = Room.objects.listed()
    if search := " ".join(search.split()):
        rooms = rooms.filter(name__icontains=search)
    return rooms.annotate(member_count=Coalesce(Subquery(members.values("n")), 0)).order_by("name", "pk")


def accessible_room(user: AbstractBaseUser, room_id: int) -> Room | None:
    return Room.objects.accessible_to(user).filter(pk=room_id).first()


def clean_room_name(name: str) -> tuple[str, str]:
    """A new room's name, tidied, and its address (slug); or why it cannot be."""
    name = " ".join(name.split())
    if not name:
        raise ChatError("A room needs a name.")
    slug = slugify(name, allow_unicode=True)
    if not slug:
        raise ChatError("A room name needs at least one letter or digit.")
    if Room.objects.filter(slug=slug).exists():
        raise ChatError(f"A room called “{name}” already exists.")
    return name, slug


def create_room(user: AbstractBaseUser, name: str, description: str = "") -> Room:
    name, slug = clean_room_name(name)
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, slug=slug, description=description.strip(), created_by=user)
            join(user, room)
    except IntegrityError:
        # Lost a race with someone creating the same name.
        raise ChatError(f"A room called “{name}” already exists.") from None
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
        entry = render_partial("room_entry_frame", {"room": room, "unread": 0})
        transaction.on_commit(lambda: realtime.subscribe(user.pk, room.pk, entry), robust=True)
    return membership


def _direct_key(user: AbstractBaseUser, other: AbstractBaseUser) -> str:
    """The same for both people, so a pair has exactly one conversation."""
    low, high = sorted([user.pk, other.pk])
    return f"{low}:{high}"


def direct_room(user: AbstractBaseUser, other: AbstractBaseUser) -> Room:
    """The one conversation between two people, created by its first message (start_direct)."""
    if user.pk == other.pk:
        raise ChatError("You can't start a conversation with yourself.")
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
    # its first message (see post_message), so merely visiting /dm/<name>/ does not show up for the other.
    entry = render_partial("dm_entry_frame", {"room": room, "other": other, "unread": 0})
    transaction.on_commit(lambda: realtime.subscribe(user.pk, room.pk, entry), robust=True)
    transaction.on_commit(lambda: realtime.subscribe(other.pk, room.pk, ""), robust=True)
    return room


def existing_direct_room(user: AbstractBaseUser, other: AbstractBaseUser) -> Room | None:
    """The conversation between two people, if one was started."""
    return Room.objects.filter(direct_key=_direct_key(user, other)).first()


def start_direct(user: AbstractBaseUser, other: AbstractBaseUser, body: str, client_id: uuid.UUID) -> Room:
    """The first message to someone starts the conversation (a POST: looking at /dm/<name>/ starts nothing)."""
    if not other.is_active:
        raise ChatError("This account is no longer active.")
    _clean_body(body)  # refused before the conversation exists, so a bad first message leaves nothing behind
    with transaction.atomic():
        room = direct_room(user, other)
        post_message(user, room.pk, body, client_id)
    return room


def other_member(memberships: Iterable[Membership], user_id: int):
    """The other person in a direct conversation (None if their account is gone)."""
    return next((m.user for m in memberships if m.user_id != user_id), None)


def unread_counts(user: AbstractBaseUser) -> dict[int, int]:
    """Per room: messages by others after the person's read mark, in one query."""
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
    rows = Membership.objects.filter(user=user).annotate(unread=Coalesce(Subquery(after_mark), 0))
    return {m.room_id: m.unread for m in rows}


def sidebar(user: AbstractBaseUser) -> dict[str, list]:
    """The rooms the user is in and their direct conversations, each DM labelled with the other person."""
    # Members are needed only to name a DM's other person; an open room's thousand members stay unloaded.
    dm_members = Membership.objects.filter(room__kind=Room.Kind.DIRECT).select_related("user")
    rooms = list(
        Room.objects.filter(memberships__user=user)
        .prefetch_related(Prefetch("memberships", queryset=dm_members))
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at")
    )
    counts = unread_counts(user)
    directs = []
    for r in rooms:
        if not r.is_direct or (r.last_message_at is None and r.created_by_id != user.pk):
            continue  # a conversation someone opened with you but never wrote in is not yours to see yet
        if (other := other_member(r.memberships.all(), user.pk)) is not None:
            directs.append({"room": r, "other": other, "unread": counts.get(r.pk, 0)})
    open_rooms = sorted((r for r in rooms if not r.is_direct), key=lambda r: r.name.lower())
    return {
        "rooms": [{"room": r, "unread": counts.get(r.pk, 0)} for r in open_rooms],
        "directs": directs,
    }


def _announce_conversation(room_id: int, author: AbstractBaseUser) -> None:
    """The first message of a conversation: it appears in the other person's sidebar (before the message
    itself arrives, which then raises its unread count)."""
    room = Room.objects.get(pk=room_id)
    entry = render_partial("dm_entry_frame", {"room": room, "other": author, "unread": 0})
    for user_id in room.memberships.exclude(user=author).values_list("user_id", flat=True):
        realtime.send_frames({realtime.user_group(user_id): entry})


def dm_partner_ids(user_id: int) -> list[int]:
    """Everyone who shares a direct conversation with this person (they see their online dot)."""
    return list(
        Membership.objects.filter(room__kind=Room.Kind.DIRECT, room__memberships__user_id=user_id)
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
    )


# ---- history -------------------------------------------------------------------------------------------


def history(room: Room, before_seq: int | None = None, limit: int = PAGE_SIZE) -> tuple[list[Message], bool]:
    """Up to `limit` visible messages before `before_seq` (or the newest), oldest first, and whether more exist."""
    query = room.messages.visible().select_related("author").order_by("-seq")
    if before_seq is not None:
        query = query.filter(seq__lt=before_seq)
    page = list(query[: limit + 1])
    return list(reversed(page[:limit])), len(page) > limit


def newer(room: Room, after_seq: int, limit: int = PAGE_SIZE) -> tuple[list[Message], bool]:
    """Up to `limit` visible messages after `after_seq`, oldest first, and whether more exist."""
    query = room.messages.visible().select_related("author").filter(seq__gt=after_seq).order_by("seq")
    page = list(query[: limit + 1])
    return page[:limit], len(page) > limit


def around(room: Room, seq: int, side: int = 25) -> tuple[list[Message], bool, bool]:
    """A permalink's view: messages on both sides of `seq`, and whether older and newer ones remain."""
    older, has_older = history(room, before_seq=seq, limit=side)
    rest, has_newer = newer(room, seq - 1, limit=side + 1)
    return older + rest, has_older, has_newer


# ---- messages ------------------------------------------------------------------------------------------


def parse_number(value: str) -> int | None:
    """A message id or sequence number sent as text: plain ASCII digits that fit a bigint, else None."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def parse_client_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ChatError("This message could not be sent (bad client id); reload the page.") from None


def clean_text(text: str, *, name: str, limit: int, empty: str) -> str:
    """Text a person wrote (a message, a report's reason), stripped, or a refusal they can act on."""
    text = text.strip()
    if not text:
        raise ChatError(empty)
    if "\x00" in text:
        raise ChatError(f"{name} contains a character that cannot be sent (NUL).")
    if len(text) > limit:
        raise ChatError(f"{name} is too long: {len(text):,} characters (the limit is {limit:,}).")
    return text


def _clean_body(body: str) -> str:
    return clean_text(body, name="Message", limit=Message.MAX_LENGTH, empty="Message is empty.")


def _next_change(room_id: int, count: int = 1, **also) -> tuple[int, str]:
    """Take the room's next change number (or the next `count`: returns the last); returns it with the room's
    kind. Call inside a transaction: the UPDATE holds the room row until commit, so numbers follow commit
    order. `also` sets more room fields. One statement (UPDATE ... RETURNING) rather than an update and a read."""
    qn = connection.ops.quote_name
    assignments, values = [f"{qn('last_seq')} = {qn('last_seq')} + %s"], [count]
    for name, value in also.items():
        field = Room._meta.get_field(name)
        assignments.append(f"{qn(field.column)} = %s")
        values.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Room._meta.db_table)} SET {', '.join(assignments)} WHERE id = %s RETURNING last_seq, kind",
            [*values, room_id],
        )
        return cursor.fetchone()


def post_message(user: AbstractBaseUser, room_id: int, body: str, client_id: uuid.UUID) -> PostResult:
    """Validate, save, then broadcast on commit. A replay of an already stored client id returns that one."""
    body = _clean_body(body)
    now = timezone.now()
    try:
        stored = _store_message(user, room_id, body, client_id, now)
        if stored is None:
            # Refused: only now ask why (room gone, muted, locked), so a send that goes through pays nothing
            # for it. A moderator may write in a locked room: theirs is stored on a second try.
            if (refusal := access.send_refusal(user, room_id)) is not None:
                raise refusal
            stored = _store_message(user, room_id, body, client_id, now, moderator=access.is_moderator(user))
    except IntegrityError:
        # A replayed send (a reconnect resends what was not acknowledged), maybe through another socket at the
        # same moment: the unique client id stores it once, and the replay gets that message.
        return PostResult(Message.objects.get(author=user, client_id=client_id), created=False)
    if stored is None:  # something changed in between (a lock, a mute): say what
        raise access.send_refusal(user, room_id) or ChatError("That conversation does not exist.")
    message_id, seq, kind, was_member = stored
    message = Message(
        pk=message_id, room_id=room_id, author=user, seq=seq, changed_seq=seq, body=body, client_id=client_id,
        created_at=now,
    )  # fmt: skip
    if not was_member:  # writing in a room means being in it (and having read it up to here)
        join(user, Room.objects.get(pk=room_id))
        Membership.objects.filter(room_id=room_id, user=user).update(last_read_seq=Greatest("last_read_seq", seq))
    if kind == Room.Kind.DIRECT and seq == 1:  # nothing can change in a room before its first message
        transaction.on_commit(lambda: _announce_conversation(room_id, user), robust=True)
    transaction.on_commit(lambda: broadcast([message]), robust=True)
    return PostResult(message, created=True)


def already_stored(user: AbstractBaseUser, client_id: str | None) -> bool:
    """Whether this person's send with this client id is stored (one lookup on a unique index)."""
    try:
        return Message.objects.filter(author=user, client_id=uuid.UUID(str(client_id))).exists()
    except ValueError:
        return False


def _store_message(
    user: AbstractBaseUser, room_id: int, body: str, client_id: uuid.UUID, now, moderator: bool = False
) -> tuple[int, int, str, bool] | None:
    """Save a message under the room's next change number and move the author's read mark to it: (message id,
    seq, room kind, whether the author is a member), or None if they may not write there: the rule of
    access.send_refusal (the room is not theirs, they are muted, it is locked), which the PostgreSQL
    statement spells out in SQL, there with the lock waived when the caller found them a `moderator`.

    The room row is locked from taking the number until commit, so every message of a busy room passes
    through that lock. On PostgreSQL it is all one statement, so the lock is held only while the server runs
    it; as separate statements the lock also waited on this process between them (for the GIL, behind the
    fan-out), and that wait capped a room at about 250 messages a second. Other databases (SQLite, the
    single-process embedded setup) take the same steps one by one."""
    if connection.vendor == "postgresql":
        return _store_message_in_one_statement(user, room_id, body, client_id, now, moderator)
    if access.send_refusal(user, room_id) is not None:  # the rule the statement spells out, asked first
        return None
    with transaction.atomic():
        seq, kind = _next_change(room_id, last_message_at=now)
        message = Message.objects.create(
            room_id=room_id, author=user, seq=seq, changed_seq=seq, body=body, client_id=client_id, created_at=now
        )
        mine = Membership.objects.filter(room_id=room_id, user=user)
        was_member = mine.update(last_read_seq=Greatest("last_read_seq", seq)) > 0
        return message.pk, seq, kind, was_member


@functools.cache
def _one_statement_sql() -> str:
    """Built once: it runs for every message."""
    rooms, messages, members, mutes = (
        connection.ops.quote_name(m._meta.db_table) for m in (Room, Message, Membership, Mute)
    )
    return f"""
        WITH room AS (
            UPDATE {rooms} SET last_seq = last_seq + 1, last_message_at = %(now)s
            WHERE id = %(room)s AND (kind = %(open)s
                OR EXISTS (SELECT 1 FROM {members} WHERE room_id = %(room)s AND user_id = %(user)s))
                AND (NOT locked OR %(moderator)s)
                AND NOT EXISTS (
                    SELECT 1 FROM {mutes} WHERE room_id = %(room)s AND user_id = %(user)s AND until > %(now)s)
            RETURNING id, last_seq, kind
        ), message AS (
            INSERT INTO {messages} (room_id, author_id, seq, changed_seq, body, client_id, created_at)
            SELECT id, %(user)s, last_seq, last_seq, %(body)s, %(client)s, %(now)s FROM room
            RETURNING id, seq
        ), reader AS (
            UPDATE {members} SET last_read_seq = GREATEST(last_read_seq, message.seq) FROM message
            WHERE room_id = %(room)s AND user_id = %(user)s
            RETURNING 1
        )
        SELECT message.id, message.seq, room.kind, EXISTS (SELECT 1 FROM reader) FROM message, room"""


def _store_message_in_one_statement(
    user: AbstractBaseUser, room_id: int, body: str, client_id: uuid.UUID, now, moderator: bool
) -> tuple[int, int, str, bool] | None:
    params = {
        "now": now, "room": room_id, "open": Room.Kind.OPEN, "user": user.pk, "body": body, "client": client_id,
        "moderator": moderator,
    }  # fmt: skip
    # Autocommit makes the statement its own transaction. Inside a caller's transaction, a savepoint keeps a
    # replayed client id (an IntegrityError) from breaking it.
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(_one_statement_sql(), params)
        return cursor.fetchone()


def _own_message(user: AbstractBaseUser, message_id: object, *, moderator_may: bool, lock: bool = False) -> Message:
    """`lock`: hold the message row until commit (inside a transaction), taken before the room's, the order a
    removal takes them in: an edit waiting behind a removal then finds the message gone instead of reviving it."""
    messages = Message.objects.select_related("room", "author")
    if lock:
        messages = messages.select_for_update(of=("self",))
    try:
        message = messages.get(pk=int(message_id), deleted_at__isnull=True)
    except (Message.DoesNotExist, TypeError, ValueError):
        raise ChatError("That message no longer exists.") from None
    if accessible_room(user, message.room_id) is None:
        raise ChatError("That message no longer exists.")
    if message.author_id != user.pk and not (moderator_may and access.is_moderator(user)):
        raise ChatError("You can only change your own messages.")
    return message


def edit_message(user: AbstractBaseUser, message_id: object, body: str) -> Message:
    body = _clean_body(body)
    with transaction.atomic():
        message = _own_message(user, message_id, moderator_may=False, lock=True)
        if (refusal := access.send_refusal(user, message.room_id)) is not None:  # muted, or locked out
            raise refusal
        if message.body == body:
            return message
        message.body = body
        message.edited_at = timezone.now()
        message.changed_seq, _ = _next_change(message.room_id)
        message.save(update_fields=["body", "edited_at", "changed_seq"])
        transaction.on_commit(lambda: broadcast([message]), robust=True)
    return message


def delete_message(user: AbstractBaseUser, message_id: object) -> Message:
    """The author, or a moderator (rooms.delete_message permission), removes a message from every screen."""
    message = _own_message(user, message_id, moderator_may=True)
    doomed = Message.objects.filter(pk=message.pk)
    if message.author_id == user.pk and message.room.is_archived:  # the record, closed (moderators still remove)
        raise ChatError(access.ARCHIVED)
    with transaction.atomic():
        removed = delete_messages(doomed, by=user)
        if message.author_id != user.pk:  # a moderator's removal: moderation logs it and resolves its reports
            signals.removed_by_moderator.send(sender=Message, actor=user, messages=removed)
    return message


def delete_messages(messages: QuerySet[Message], by: AbstractBaseUser) -> list[Message]:
    """Hide messages everywhere at once; the rows stay, marked, for the record. Each room's pages get one frame
    with all its tombstones. Returns the messages removed (those not already gone)."""
    with transaction.atomic():
        doomed = list(messages.visible().select_for_update(of=("self",)).order_by("room_id", "seq"))
        now = timezone.now()
        for room_id, group in itertools.groupby(doomed, key=lambda m: m.room_id):
            in_room = list(group)
            last, _ = _next_change(room_id, count=len(in_room))  # one UPDATE per room, however many
            for number, message in enumerate(in_room, start=last - len(in_room) + 1):
                message.deleted_at, message.deleted_by, message.changed_seq = now, by, number
        Message.objects.bulk_update(doomed, ["deleted_at", "deleted_by", "changed_seq"], batch_size=1000)
        transaction.on_commit(lambda: broadcast(doomed), robust=True)
    return doomed


# ---- read state and catch-up ---------------------------------------------------------------------------


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


def unread_frame(user: AbstractBaseUser, room_ids: list[int] | None = None) -> str:
    counts = unread_counts(user)
    if room_ids is not None:
        counts = {r: counts.get(r, 0) for r in room_ids}
    return render_partial("unread_frame", {"counts": counts.items()})


def catch_up_frame(user: AbstractBaseUser, room_id: int, after: int) -> str:
    """Every change to the room after change number `after`: new, edited and deleted messages, in order."""
    room = accessible_room(user, room_id)
    if room is None:
        raise ChatError("That conversation does not exist.")
    # A message posted and then edited or deleted comes once, under its latest number, so the page cannot
    # count its way up: the frame says it is complete up to the room's last change (read before the query).
    changes = list(
        room.messages.filter(changed_seq__gt=after)
        .select_related("author")
        .order_by("changed_seq")[: CATCH_UP_LIMIT + 1]
    )
    # Too much to replay is found before rendering (the cost), and the rendered frame measured (the ceiling).
    if len(changes) > CATCH_UP_LIMIT or _text_size(changes) > CATCH_UP_MAX_BYTES:
        return render_partial("reload_frame", {})
    frame = render_partial("messages_frame", {"room_id": room.pk, "messages": changes, "upto": room.last_seq})
    # The room's lock as it is now: a page that was away when it changed shows it right.
    frame += room_state_frame(room)
    if len(frame) * 4 > CATCH_UP_MAX_BYTES and len(frame.encode()) > CATCH_UP_MAX_BYTES:
        return render_partial("reload_frame", {})
    return frame


def _text_size(messages: list[Message]) -> int:
    """About the bytes these messages take rendered, found without rendering them: their text as escaped, in
    UTF-8 (escaping can make one character six bytes), plus each one's markup."""
    size = 0
    for message in messages:
        size += MESSAGE_MARKUP_BYTES
        if not message.is_deleted:  # a tombstone is markup only
            size += len(escape(message.body).encode()) + 4 * message.body.count("\n")  # linebreaksbr's <br>
        if size > CATCH_UP_MAX_BYTES:
            break
    return size


# ---- rendering and fan-out -----------------------------------------------------------------------------


def render_partial(name: str, context: dict) -> str:
    return render_to_string(f"{PARTIALS}#{name}", context)


def broadcast(messages: list[Message]) -> None:
    """New, edited and deleted messages alike: one frame per room, rendered once, with that room's messages in
    change order (a moderator's bulk removal is one frame, not one per message)."""
    by_room: dict[int, list[Message]] = {}
    for message in sorted(messages, key=lambda m: m.changed_seq):
        by_room.setdefault(message.room_id, []).append(message)
    realtime.send_frames(
        {
            realtime.room_group(room_id): render_partial("messages_frame", {"room_id": room_id, "messages": changed})
            for room_id, changed in by_room.items()
        }
    )


def room_state_frame(room: Room) -> str:
    """Whether the room is locked or archived: one fragment for every viewer; CSS shows or hides the composer
    per viewer (body[data-moderator])."""
    return render_partial("room_state", {"room": room, "oob": True})


def typing_frame(user: AbstractBaseUser, room_id: int) -> str:
    return render_partial("typing_frame", {"room_id": room_id, "user": user})


def presence_frame(room_id: int, usernames: list[str]) -> str:
    return render_partial("presence_frame", {"room_id": room_id, "usernames": usernames, "oob": True})


def dots_frame(online_by_user: dict[int, bool]) -> str:
    return "".join(dot_frame(user_id, online) for user_id, online in online_by_user.items())


def dot_frame(user_id: int, online: bool) -> str:
    return render_partial("dot", {"user_id": user_id, "online": online, "oob": True})


def render_status(
    text: str = "", client_id: uuid.UUID | str | None = None, ok: bool = False, retry: int | None = None
) -> str:
    """The sender-only frame: an acknowledgement (the page drops its pending copy), an error to read (the page
    puts the text back in the composer), or, with `retry`, "not yet": the page sends it again in that many
    milliseconds, and holds later sends behind it."""
    return render_partial("status_frame", {"text": text, "client_id": client_id or "", "ok": ok, "retry": retry})
