"""Sending, editing and removing messages: validate, check the rule, store, then broadcast on commit."""

from __future__ import annotations

import itertools
import uuid
from contextlib import nullcontext
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Greatest
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext

import realtime

from .. import access, frames, signals
from ..errors import ChatError
from ..models import Membership, Message, Room
from ..notify import passes as notify
from . import files as uploads
from . import mentions, previews, store
from .rooms import join, members


@dataclass(frozen=True)
class PostResult:
    message: Message
    created: bool


def parse_number(value: str) -> int | None:
    """A message id or sequence number sent as text: plain ASCII digits that fit a bigint, else None."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def parse_client_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ChatError(gettext("This message could not be sent (bad client id); reload the page.")) from None


def clean_text(text: str, *, name: str, limit: int, empty: str) -> str:
    """Text a person wrote (a message, a report's reason), stripped, or a refusal they can act on. `name` and
    `empty` come translated; numbers are written the reader's way ("4,001" in English, "4001" in Chinese)."""
    text = text.strip()
    if not text:
        raise ChatError(empty)
    if "\x00" in text:
        raise ChatError(gettext("%(name)s contains a character that cannot be sent (NUL).") % {"name": name})
    if len(text) > limit:
        raise ChatError(
            gettext("%(name)s is too long: %(length)s characters (the limit is %(limit)s).")
            % {"name": name, "length": _number(len(text)), "limit": _number(limit)}
        )
    return text


def _number(n: int) -> str:
    return formats.number_format(n, force_grouping=True)


def clean_body(body: str) -> str:
    return clean_text(
        body,
        name=pgettext("noun: what you write", "Message"),
        limit=Message.MAX_LENGTH,
        empty=gettext("Message is empty."),
    )


def post_message(
    user: AbstractBaseUser,
    room_id: int,
    body: str,
    client_id: uuid.UUID,
    reply_to: int | None = None,
    files: list[int] | None = None,
) -> PostResult:
    """Validate, save, then broadcast on commit. A replay of an already stored client id returns that one.
    `reply_to`: the id of the message of the same room it answers; `files`: the person's uploads in the room
    (services/files.py) it carries, the text then being their caption, which may be empty."""
    body = clean_body(body) if body.strip() or not files else ""
    # A message with files is stored in one transaction with them (all or none); text alone keeps the send
    # path's single statement.
    with transaction.atomic() if files else nullcontext():
        return _post(user, room_id, body, client_id, reply_to, files)


def _post(
    user: AbstractBaseUser, room_id: int, body: str, client_id: uuid.UUID, reply_to: int | None, files: list[int] | None
) -> PostResult:
    quoted = _quoted(room_id, reply_to) if reply_to is not None else None
    rendered = mentions.render(user, room_id, body)  # once, here: pages and frames show what is stored
    html, now = rendered.html, timezone.now()
    draft = store.Draft(body, html, client_id, now, reply_to)
    try:
        stored = store.store_message(user, room_id, draft)
        if stored is None:
            # Refused: only now ask why (room gone, muted, locked), so a send that goes through pays nothing
            # for it. A moderator may write in a locked room: theirs is stored on a second try.
            if (refusal := access.send_refusal(user, room_id)) is not None:
                raise refusal
            moderator = access.is_moderator(user)
            stored = store.store_message(user, room_id, draft, moderator=moderator)
    except IntegrityError:
        # A replayed send (a reconnect resends what was not acknowledged), maybe through another socket at the
        # same moment: the unique client id stores it once, and the replay gets that message.
        return PostResult(Message.objects.get(author=user, client_id=client_id), created=False)
    if stored is None:  # something changed in between (a lock, a mute): say what
        raise access.send_refusal(user, room_id) or ChatError(gettext("That conversation does not exist."))
    message_id, seq, kind, was_member = stored
    message = Message(
        pk=message_id, room_id=room_id, author=user, seq=seq, changed_seq=seq, body=body, html=html,
        client_id=client_id, created_at=now, reply_to=quoted,
    )  # fmt: skip
    # Shown with its files as loaded now (for_display's prefetch, without a query): none for text alone.
    message.loaded_files = uploads.attach(user, message, files) if files else []
    if rendered.mentioned or rendered.here:
        mentions.record(message, rendered)
    # Writing in an open room means being in it (and having read it up to here). Only an open one: in any other,
    # a send stored as its author was being removed must not bring them back.
    if not was_member and kind == Room.Kind.OPEN:
        join(user, Room.objects.get(pk=room_id))
        Membership.objects.filter(room_id=room_id, user=user).update(last_read_seq=Greatest("last_read_seq", seq))
    if kind in Room.CONVERSATIONS and seq == 1:  # nothing changes in a room before its first message
        transaction.on_commit(lambda: _announce_conversation(room_id, user), robust=True)
    transaction.on_commit(lambda: frames.broadcast([message]), robust=True)
    transaction.on_commit(lambda: notify.ask(room_id, seq), robust=True)  # after the frame: notifying can wait
    previews.queue(message)  # its link's card comes later, from the worker, as a change of its own
    return PostResult(message, created=True)


def _quoted(room_id: int, message_id: int) -> Message:
    """The message a reply answers, as the reply shows it: in the same room."""
    # A removed one too: a reply written (or resent after a reconnect) as it was removed still goes, and its
    # quote says the message was deleted.
    quoted = Message.objects.select_related("author__profile").filter(pk=message_id, room_id=room_id).first()
    if quoted is None:
        raise ChatError(gettext("The message you are replying to no longer exists."), code="reply")
    return quoted


def _announce_conversation(room_id: int, author: AbstractBaseUser) -> None:
    """The first message of a conversation: it appears in the other people's sidebars (before the message
    itself arrives, which then raises its unread count)."""
    room = Room.objects.get(pk=room_id)
    people, _ = members(room)
    if room.kind == Room.Kind.GROUP:
        entry = frames.group_entry_frame(room, people)
    else:
        entry = frames.dm_entry_frame(room, author)
    for person in people:
        if person.pk != author.pk:
            realtime.send_frames({realtime.user_group(person.pk): entry})


def already_stored(user: AbstractBaseUser, client_id: str | None) -> bool:
    """Whether this person's send with this client id is stored (one lookup on a unique index)."""
    try:
        return Message.objects.filter(author=user, client_id=uuid.UUID(str(client_id))).exists()
    except ValueError:
        return False


def readable_message(user: AbstractBaseUser, message_id: object, *, lock: bool = False) -> Message:
    """A message the person can read now (not removed), as the page shows it; `lock`: hold the message row
    until commit (inside a transaction), taken before the room's, the order a removal takes them in: a change
    waiting behind a removal then finds the message gone instead of reviving it."""
    messages = Message.objects.for_display().select_related("room")
    if lock:
        messages = messages.select_for_update(of=("self",))
    try:
        message = messages.get(pk=int(message_id), deleted_at__isnull=True)
    except (Message.DoesNotExist, TypeError, ValueError):
        raise ChatError(gettext("That message no longer exists.")) from None
    if access.readable_room(user, message.room_id) is None:
        raise ChatError(gettext("That message no longer exists."))
    return message


def _own_message(user: AbstractBaseUser, message_id: object, *, moderator_may: bool, lock: bool = False) -> Message:
    message = readable_message(user, message_id, lock=lock)
    if message.author_id != user.pk and not (moderator_may and access.is_moderator(user)):
        raise ChatError(gettext("You can only change your own messages."))
    return message


def source_of(user: AbstractBaseUser, message_id: object) -> str:
    """What the author wrote (the Markdown the page shows rendered), for their edit form; nobody else's."""
    return _own_message(user, message_id, moderator_may=False).body


def edit_message(user: AbstractBaseUser, message_id: object, body: str) -> Message:
    body = clean_body(body)
    with transaction.atomic():
        message = _own_message(user, message_id, moderator_may=False, lock=True)
        if (refusal := access.send_refusal(user, message.room_id)) is not None:  # muted, or locked out
            raise refusal
        if message.body == body:
            return message
        html_before = message.html
        rendered = mentions.render(user, message.room_id, body, before=html_before)
        message.body, message.html = body, rendered.html
        mentions.record(message, rendered, before=html_before)
        message.edited_at = timezone.now()
        message.changed_seq, _ = store.next_change(message.room_id)
        message.save(update_fields=["body", "html", "edited_at", "changed_seq"])
        transaction.on_commit(lambda: frames.broadcast([message]), robust=True)
        previews.follow_edit(message, html_before)  # another first link: the old card goes, the new one is asked for
    return message


def delete_message(user: AbstractBaseUser, message_id: object) -> Message:
    """The author, or a moderator (rooms.delete_message permission), removes a message from every screen."""
    message = _own_message(user, message_id, moderator_may=True)
    doomed = Message.objects.filter(pk=message.pk)
    if message.author_id == user.pk and message.room.is_archived:  # the record, closed (moderators still remove)
        raise ChatError(str(access.ARCHIVED))
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
            last, _ = store.next_change(room_id, count=len(in_room))  # one UPDATE per room, however many
            for number, message in enumerate(in_room, start=last - len(in_room) + 1):
                message.deleted_at, message.deleted_by, message.changed_seq = now, by, number
        Message.objects.bulk_update(doomed, ["deleted_at", "deleted_by", "changed_seq"], batch_size=1000)
        uploads.schedule_purge(doomed)  # their files are not served from now on; their bytes go later
        transaction.on_commit(lambda: frames.broadcast(doomed), robust=True)
    return doomed
