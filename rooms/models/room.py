"""Rooms (open and private) and conversations (direct and group) share one model, so history, unread,
catch-up, moderation and delivery are written once. Who may read which is rooms/access.py."""

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
        PRIVATE = "private", _("Private room")  # members only, invisible to everyone else
        # The kind of room, not one message: it reads as "direct conversation" (私聊), as everywhere else.
        DIRECT = "direct", pgettext_lazy("a kind of room", "Direct message")
        GROUP = "group", _("Group conversation")  # 3 to 16 people, fixed when it is started

    ROOMS = (Kind.OPEN, Kind.PRIVATE)  # named, with an address (slug)
    CONVERSATIONS = (Kind.DIRECT, Kind.GROUP)  # their people are what they are
    GROUP_SIZE = (3, 16)  # people in a group conversation, its starter included

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)
    name = models.CharField(_("name"), max_length=80, blank=True)
    # Rooms only; a direct conversation is reached by the other person's username, a group one by its number.
    slug = models.SlugField(_("slug"), max_length=90, unique=True, null=True, blank=True, allow_unicode=True)
    topic = models.CharField(_("topic"), max_length=120, blank=True, help_text=_("Shown beside the room's name."))
    description = models.CharField(_("description"), max_length=300, blank=True)
    # A conversation's people, their ids ascending, joined by ":", so a set of people has exactly one.
    direct_key = models.CharField(_("people"), max_length=200, unique=True, null=True, blank=True, editable=False)
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
    # A moderator made the room read-only for everyone but moderators (rooms only).
    locked = models.BooleanField(_("locked"), default=False, help_text=_("Read-only for everyone but moderators."))
    # A moderator archived the room: read-only for everyone, moderators included, and out of the room list.
    # It is locked too, so whoever was shown the lock before sees it stay.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    # Set in admin: where new people start, instead of an empty sidebar (open rooms only; see listed()).
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
                condition=Q(kind__in=["open", "private"], slug__isnull=False, direct_key__isnull=True)
                | Q(kind__in=["direct", "group"], slug__isnull=True, direct_key__isnull=False),
            ),
            models.CheckConstraint(
                name="room_lock_rooms_only", condition=Q(kind__in=["open", "private"]) | Q(locked=False)
            ),
            models.CheckConstraint(
                name="room_archived_rooms_and_locked",
                condition=Q(archived_at__isnull=True) | Q(kind__in=["open", "private"], locked=True),
            ),
        ]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        # Not the people: who talks privately with whom is not for every page that names a room (admin's
        # mutes, log and reports show this) to tell.
        if self.kind == self.Kind.DIRECT:
            return gettext("Direct conversation #%(id)s") % {"id": self.pk}
        if self.kind == self.Kind.GROUP:
            return gettext("Group conversation #%(id)s") % {"id": self.pk}
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
        """A room's or a group conversation's address; a direct conversation's depends on who asks (the other
        person's name): rooms.views.permalink."""
        if self.kind == self.Kind.GROUP:
            return reverse("rooms:group", kwargs={"room_id": self.pk})
        return reverse("rooms:room", kwargs={"slug": self.slug})

    @property
    def is_direct(self) -> bool:
        return self.kind == self.Kind.DIRECT

    @property
    def is_room(self) -> bool:
        """Open or private: named, with settings and a member list people join and leave."""
        return self.kind in self.ROOMS

    @property
    def is_conversation(self) -> bool:
        """Direct or group: its people are fixed, it has no name of its own."""
        return not self.is_room

    @property
    def is_private(self) -> bool:
        return self.kind == self.Kind.PRIVATE

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
