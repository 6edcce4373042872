"""Rooms and direct conversations share one model, so history, moderation and delivery are written once."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone


class RoomQuerySet(models.QuerySet["Room"]):
    def accessible_to(self, user) -> RoomQuerySet:
        """Open rooms are public to signed-in people; a direct room only to its two members."""
        mine = Membership.objects.filter(room=OuterRef("pk"), user=user)
        return self.filter(Q(kind=Room.Kind.OPEN) | Q(kind=Room.Kind.DIRECT) & Exists(mine))

    def listed(self) -> RoomQuerySet:
        """The public room list: open rooms that are not archived (an archived room stays readable, and in its
        members' sidebars, but nobody is invited into it)."""
        return self.filter(kind=Room.Kind.OPEN, archived_at__isnull=True)


class Room(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", "Room"
        DIRECT = "direct", "Direct message"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OPEN)
    name = models.CharField(max_length=80, blank=True)
    # Open rooms only; direct rooms are reached by the other person's username.
    slug = models.SlugField(max_length=90, unique=True, null=True, blank=True, allow_unicode=True)
    description = models.CharField(max_length=300, blank=True)
    # "<lower user id>:<higher user id>" so a pair of people has exactly one conversation.
    direct_key = models.CharField(max_length=50, unique=True, null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The room's change counter: every new, edited or deleted message takes the next number. It is bumped
    # with an UPDATE (a row lock), so numbers are handed out in commit order and catch-up can ask "after N".
    last_seq = models.BigIntegerField(default=0, editable=False)
    # When the latest message was posted: the sidebar lists conversations by recent activity.
    last_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A moderator made the room read-only for everyone but moderators (open rooms only).
    locked = models.BooleanField(default=False, help_text="Read-only for everyone but moderators.")
    # A moderator archived the room: read-only for everyone, moderators included, and out of the room list.
    # It is locked too, so the one-statement send (which knows only the lock) refuses it without a new check.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="room_kind_fields",
                condition=Q(kind="open", slug__isnull=False, direct_key__isnull=True)
                | Q(kind="direct", slug__isnull=True, direct_key__isnull=False),
            ),
            models.CheckConstraint(name="room_lock_open_only", condition=Q(kind="open") | Q(locked=False)),
            models.CheckConstraint(
                name="room_archived_open_and_locked",
                condition=Q(archived_at__isnull=True) | Q(kind="open", locked=True),
            ),
        ]

    def __str__(self) -> str:
        # Not the direct key: who talks privately with whom is not for every page that names a room (admin's
        # mutes, log and reports show this) to tell.
        if self.kind == self.Kind.DIRECT:
            return f"Direct conversation #{self.pk}"
        return self.name

    def save(self, *args, **kwargs) -> None:
        # The change counter and the time of the last message move only by UPDATE in SQL (services): saving a
        # room read a moment ago (the admin's form) must not write them back, or change numbers would repeat.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in {"last_seq", "last_message_at"}
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("rooms:room", kwargs={"slug": self.slug})

    @property
    def is_direct(self) -> bool:
        return self.kind == self.Kind.DIRECT

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


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


class MessageQuerySet(models.QuerySet["Message"]):
    def visible(self) -> MessageQuerySet:
        return self.filter(deleted_at__isnull=True)


class Message(models.Model):
    MAX_LENGTH = 4000

    # No index of its own: the (room, seq) one serves every lookup by room, and a second one made PostgreSQL
    # scan a whole room when counting what follows a read mark.
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages", db_index=False)
    # PROTECT: deleting an account must not silently take its messages (and the moderation record) along;
    # people are deactivated instead.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages")
    # Position in the room (fixed at creation) and the room change number of its latest change.
    seq = models.BigIntegerField(editable=False)
    changed_seq = models.BigIntegerField(editable=False)
    body = models.TextField(max_length=MAX_LENGTH)
    # Chosen by the sending page; a replayed send with the same id is stored once.
    client_id = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Moderation removes a message from every screen but keeps the row for the record.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
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

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:60]}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# ---- mutes: part of who may write (access.py); moderation/ sets and lifts them --------------------------


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
