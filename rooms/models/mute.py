"""Mutes: part of who may write (access.py); moderation/ sets and lifts them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .room import Room


class Mute(models.Model):
    """Someone may read a room but not write in it until `until`. One per person and room: muting again
    replaces it; unmuting deletes it (the moderation log keeps the record)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="mutes", verbose_name=_("room"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes", verbose_name=_("user")
    )
    # A field's label, with a context of its own: "until" is also a word in sentences ("until lifted").
    until = models.DateTimeField(pgettext_lazy("a mute's end, as a field", "until"))
    reason = models.CharField(
        _("reason"), max_length=500, blank=True, help_text=_("Shown to the person when they try to write.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        # Also the index the one-statement send uses to check for a mute.
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="mute_unique")]
        verbose_name = _("mute")
        verbose_name_plural = _("mutes")

    def __str__(self) -> str:
        return gettext("%(user)s muted in %(room)s") % {"user": self.user, "room": self.room}

    @property
    def is_active(self) -> bool:
        return self.until > timezone.now()
