"""Reactions: a person adds or removes their emoji on a message, once per kind. Each is a change to the
message under its room's next change number, broadcast on commit with the message as it now shows, so every
page, and every catch-up, gets it exactly once."""

from __future__ import annotations

from collections.abc import Iterable

import emoji
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from .. import access, frames
from ..errors import ChatError
from ..models import Message, Reaction
from . import store
from .messages import readable_message


def react(user: AbstractBaseUser, message_id: object, kind: str, add: bool) -> None:
    """Add (or remove) the person's `kind` of reaction. The page says which it means, not "toggle": two tabs
    clicking at once both mean "add", and the message keeps one."""
    if not emoji.is_emoji(kind):
        raise ChatError(gettext("Reactions are emoji; that is not one."))
    kind = emoji.emojize(emoji.demojize(kind))  # one form of each: "❤" and "❤️" are one reaction, not two
    with transaction.atomic():
        # The message row, locked: reactions to one message take their turns, so the check and the write
        # below see each other (and the unique constraint stands behind them).
        message = readable_message(user, message_id, lock=True)
        if (refusal := access.send_refusal(user, message.room_id)) is not None:  # muted, locked, archived
            raise refusal
        mine = Reaction.objects.filter(message=message, user=user, emoji=kind)
        if add:
            if mine.exists():
                return
            kinds = {r.emoji for r in message.reactions.all()}
            if kind not in kinds and len(kinds) >= Reaction.MAX_KINDS:
                raise ChatError(gettext("This message has as many kinds of reaction as it can take."))
            try:
                with transaction.atomic():
                    Reaction.objects.create(message=message, user=user, emoji=kind)
            except IntegrityError:  # there after all: nothing changed
                return
        elif not mine.delete()[0]:
            return
        _changed([message.pk])


def remove_reactions(reactions: Iterable[Reaction]) -> list[Message]:
    """Take reactions off their messages (a moderator's removal): each message changes once, however many of
    its reactions go. Returns the messages changed."""
    ids = [r.pk for r in reactions]
    with transaction.atomic():
        targets = Reaction.objects.filter(pk__in=ids).values("message_id")
        message_ids = list(
            Message.objects.select_for_update(of=("self",))
            .filter(pk__in=targets, deleted_at__isnull=True)
            .order_by("room_id", "seq")
            .values_list("pk", flat=True)
        )
        Reaction.objects.filter(pk__in=ids).delete()
        return _changed(message_ids)


def _changed(message_ids: list[int]) -> list[Message]:
    """The messages' new change numbers, and the frame that shows them as they now are, sent on commit."""
    changed = []
    for message_id in message_ids:
        message = Message.objects.get(pk=message_id)
        message.changed_seq, _ = store.next_change(message.room_id)
        message.save(update_fields=["changed_seq"])
        changed.append(message_id)
    shown = list(Message.objects.for_display().filter(pk__in=changed))  # with their reactions as they are now
    transaction.on_commit(lambda: frames.broadcast(shown), robust=True)
    return shown
