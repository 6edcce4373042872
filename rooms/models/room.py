"""Rooms and direct conversations share one model, so history, moderation and delivery are written once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class RoomQuerySet(models.QuerySet["Room"]):
    def listed(self) -> RoomQuerySet:
        """The public room list: open rooms that are not archived (an archived room stays readable, and in its
        members' sidebars, but nobody is invited into it)."""
        return self.filter(kind=Room.Kind.OPEN, archived_at__isnull=True)


class Room(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("Room")
        # The kind of room, not one message: it reads as "direct conversation" (私聊), as everywhere else.
        DIRECT = "direct", pgettext_lazy("a kind of room", "Direct message")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)
    name = models.CharField(_("name"), max_length=80, blank=True)
    # Open rooms only; direct rooms are reached by the other person's username.
    slug = models.SlugField(_("slug"), max_length=90, unique=True, null=True, blank=True, allow_unicode=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # "<lower user id>:<higher user id>" so a pair of people has exactly one conversation.
    direct_key = models.CharField(_("direct key"), max_length=50, unique=True, null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The room's change counter: every new, edited or deleted message takes the next number. It is bumped
    # with an UPDATE (a row lock), so numbers are handed out in commit order and catch-up can ask "after N".
    last_seq = models.BigIntegerField(_("last change number"), default=0, editable=False)
    # When the latest message was posted: the sidebar lists conversations by recent activity.
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True, editable=False)
    # A moderator made the room read-only for everyone but moderators (open rooms only).
    locked = models.BooleanField(_("locked"), default=False, help_text=_("Read-only for everyone but moderators."))
    # A moderator archived the room: read-only for everyone, moderators included, and out of the room list.
    # It is locked too, so whoever was shown the lock before sees it stay.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    # Set in admin: where new people start, instead of an empty sidebar (open rooms only).
    is_default = models.BooleanField(
        _("default room"), default=False, help_text=_("People who sign up join it and start there.")
    )

    # @here reaches everyone with the room open: a crowd's worth of alerts in a big room, so it is kept to
    # rooms of at most this many members (0: never).
    here_limit = models.PositiveIntegerField(
        _("@here limit"),
        default=50,
        db_default=50,  # rooms a worker of the previous version creates during a deploy
        help_text=_("@here may be used in this room while it has at most this many members (0: never)."),
    )

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
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        # Not the direct key: who talks privately with whom is not for every page that names a room (admin's
        # mutes, log and reports show this) to tell.
        if self.kind == self.Kind.DIRECT:
            return gettext("Direct conversation #%(id)s") % {"id": self.pk}
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
