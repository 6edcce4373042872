"""Who is in which room, and how far they have read it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .room import Room


class Membership(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(auto_now_add=True)
    # The highest message seq this person has seen in the room; unread = later messages by others.
    last_read_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"
