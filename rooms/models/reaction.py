"""Reactions: one person's emoji on a message, once per kind. Each added or removed one is a change to the
message (its room's next change number), so every page and every catch-up shows it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .message import Message


class Reaction(models.Model):
    MAX_KINDS = 20  # different emoji on one message: enough for any chat, not a wall

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions", verbose_name=_("message"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    emoji = models.CharField(_("emoji"), max_length=32)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "emoji", "user"], name="reaction_unique")]
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")

    def __str__(self) -> str:
        return f"{self.emoji} {self.user}"


@dataclass(frozen=True, slots=True)
class ReactionGroup:
    """One emoji on a message as it shows: how many, who (ids for the page to find its reader among, names
    for the tooltip), in the order the first of each came."""

    emoji: str
    user_ids: tuple[int, ...]
    names: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.user_ids)

    @property
    def more(self) -> int:
        """How many reacted beyond the names shown."""
        return len(self.user_ids) - len(self.names)

    @property
    def users(self) -> str:
        return " ".join(map(str, self.user_ids))
