"""Moderation's records: bans, reports and the log. Their tables keep the names they had in rooms/ (rooms_ban,
rooms_report, rooms_moderationlog): the models moved, the data did not."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from rooms.models import Message, Room


class BanQuerySet(models.QuerySet["Ban"]):
    def active(self) -> BanQuerySet:
        """Not lifted and not yet over: the person cannot log in or connect."""
        return self.filter(Q(until__isnull=True) | Q(until__gt=timezone.now()), lifted_at__isnull=True)


class Ban(models.Model):
    """A site-wide suspension. The row stays after it ends (lifted or expired), for the record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bans")
    reason = models.CharField(max_length=500, blank=True, help_text="Shown to the person when they try to log in.")
    until = models.DateTimeField(null=True, blank=True, help_text="Leave empty to ban until a moderator lifts it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    lifted_at = models.DateTimeField(null=True, blank=True, editable=False)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = BanQuerySet.as_manager()

    class Meta:
        db_table = "rooms_ban"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Ban of {self.user}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None and (self.until is None or self.until > timezone.now())


class Report(models.Model):
    """Someone asks moderators to look at a message. One per person and message: reporting again updates it."""

    REASON_MAX_LENGTH = 500

    class Resolution(models.TextChoices):
        REMOVED = "removed", "Message removed"
        REMOVED_ALL = "removed_all", "All the author's messages in the room removed"
        MUTED = "muted", "Author muted in the room"
        BANNED = "banned", "Author banned"
        DISMISSED = "dismissed", "Dismissed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=REASON_MAX_LENGTH)
    # The message as it was when reported: its author may edit it before a moderator looks.
    reported_body = models.TextField(max_length=Message.MAX_LENGTH, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True, editable=False)

    class Meta:
        db_table = "rooms_report"
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="report_unique")]

    def __str__(self) -> str:
        return f"Report by {self.reporter} on message {self.message_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def edited_since(self) -> bool:
        """The message now says something other than what was reported."""
        return self.message.body != self.reported_body


class ModerationLog(models.Model):
    """Who did what to whom, when and why: written by every moderation action, in the same transaction."""

    class Action(models.TextChoices):
        REMOVE = "remove", "Removed a message"
        REMOVE_ALL = "remove_all", "Removed all messages by a user in a room"
        BAN = "ban", "Banned"
        LIFT_BAN = "lift_ban", "Lifted a ban"
        MUTE = "mute", "Muted"
        UNMUTE = "unmute", "Unmuted"
        LOCK = "lock", "Locked a room"
        UNLOCK = "unlock", "Unlocked a room"
        ARCHIVE = "archive", "Archived a room"
        UNARCHIVE = "unarchive", "Unarchived a room"
        DELETE_ROOM = "delete_room", "Deleted an empty room"
        RESOLVE = "resolve_report", "Resolved reports"
        DISMISS = "dismiss_report", "Dismissed reports"

    # PROTECT: the trail must keep who acted; a moderator's account is deactivated, not deleted.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    details = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "rooms_moderationlog"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.actor}: {self.get_action_display()}"
