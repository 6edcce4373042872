"""Messages: a room's history, each with its place in the room and the number of its latest change."""

from __future__ import annotations

import html
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from .. import naming
from .room import Room

if TYPE_CHECKING:
    from .reaction import ReactionGroup

NAMES_SHOWN = 10  # in a reaction's tooltip; "and N more" after them
QUOTE_LENGTH = 100  # characters of the message a reply quotes


class MessageQuerySet(models.QuerySet["Message"]):
    def visible(self) -> MessageQuerySet:
        return self.filter(deleted_at__isnull=True)

    def for_display(self) -> MessageQuerySet:
        """With everything the message partial shows (templates/rooms/partials.html), loaded in a fixed number
        of queries however many messages: the author's name and avatar (accounts.people), and each slot's: the
        quoted message of a reply, the link card (its picture is served apart), the reactions, the files."""
        from .reaction import Reaction

        reactions = Reaction.objects.select_related(*(f"user__{r}" for r in naming.load_with_user)).order_by("pk")
        return (
            self.select_related("author__profile", "reply_to__author__profile", "link_preview")
            .defer("link_preview__image")
            .prefetch_related(
                models.Prefetch("reactions", reactions),
                models.Prefetch("attachments", to_attr="loaded_files"),
            )
        )


class Message(models.Model):
    MAX_LENGTH = 4000

    # No index of its own: the (room, seq) one serves every lookup by room, and a second one made PostgreSQL
    # scan a whole room when counting what follows a read mark.
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="messages", db_index=False, verbose_name=_("room")
    )
    # PROTECT: deleting an account must not silently take its messages (and the moderation record) along;
    # people are deactivated instead.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages", verbose_name=_("author")
    )
    # Position in the room (fixed at creation) and the room change number of its latest change.
    seq = models.BigIntegerField(_("position"), editable=False)
    changed_seq = models.BigIntegerField(_("change number"), editable=False)
    body = models.TextField(_("text"), max_length=MAX_LENGTH)
    # The body as it shows: rendered from its Markdown and sanitized once, when it is sent or edited
    # (rooms/formatting.py), so pages and frames put it in as it is.
    # db_default: rows a worker of the previous version inserts during a deploy get "" (shown as plain text).
    html = models.TextField(_("rendered text"), editable=False, default="", db_default="")
    # The message this one answers (same room), shown quoted above it. Messages are removed by marking them,
    # so it stays; SET_NULL only for a room deleted whole. No index: nothing looks up the replies to one.
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        editable=False,
        verbose_name=_("reply to"),
    )
    # Chosen by the sending page; a replayed send with the same id is stored once.
    client_id = models.UUIDField(_("client id"), default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False, db_index=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True, editable=False)
    # Moderation removes a message from every screen but keeps the row for the record.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("deleted by"),
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq_unique"),
            models.UniqueConstraint(fields=["author", "client_id"], name="message_client_id_unique"),
        ]
        # Catch-up reads "changes in this room after N".
        indexes = [models.Index(fields=["room", "changed_seq"], name="message_room_changed")]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:60]}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def first_line(self) -> str:
        """What a reply quotes: the first line of the text as it shows (its Markdown marks gone), shortened."""
        text = html.unescape(strip_tags(self.html)) if self.html else self.body
        line = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return line if len(line) <= QUOTE_LENGTH else line[: QUOTE_LENGTH - 1] + "…"

    @property
    def files(self) -> list:
        """Its files as loaded with it (for_display, or set by the send path: a plain list, so the partial
        asks nothing of a text message); asked for otherwise."""
        loaded = getattr(self, "loaded_files", None)
        return loaded if loaded is not None else list(self.attachments.all())

    def reaction_groups(self) -> list[ReactionGroup]:
        """Its reactions by emoji, as the page shows them. A message that never changed has none, and is not
        asked (the partial checks): sending one costs no query for them."""
        from .reaction import ReactionGroup

        by_emoji: dict[str, list] = {}
        for reaction in self.reactions.all():
            by_emoji.setdefault(reaction.emoji, []).append(reaction.user)
        return [
            ReactionGroup(emoji, tuple(u.pk for u in users), tuple(naming.shown_name(u) for u in users[:NAMES_SHOWN]))
            for emoji, users in by_emoji.items()
        ]
