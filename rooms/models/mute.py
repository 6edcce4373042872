"""Mutes: part of who may write (access.py); moderation/ sets and lifts them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .room import Room


class Mute(models.Model):
    """Someone may read a room but not write in it until `until`. One per person and room: muting again
    replaces it; unmuting deletes it (the moderation log keeps the record)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes")
    until = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True, help_text="Shown to the person when they try to write.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        # Also the index the one-statement send uses to check for a mute.
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="mute_unique")]

    def __str__(self) -> str:
        return f"{self.user} muted in {self.room}"

    @property
    def is_active(self) -> bool:
        return self.until > timezone.now()
