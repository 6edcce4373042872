"""Moderation's records: bans, reports and the log. Their tables keep the names they had in rooms/ (rooms_ban,
rooms_report, rooms_moderationlog): the models moved, the data did not."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from rooms.models import Message, Room


class BanQuerySet(models.QuerySet["Ban"]):
    def active(self) -> BanQuerySet:
        """Not lifted and not yet over: the person cannot log in or connect."""
        return self.filter(Q(until__isnull=True) | Q(until__gt=timezone.now()), lifted_at__isnull=True)


class Ban(models.Model):
    """A site-wide suspension. The row stays after it ends (lifted or expired), for the record."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bans", verbose_name=_("user")
    )
    reason = models.CharField(
        _("reason"), max_length=500, blank=True, help_text=_("Shown to the person when they try to log in.")
    )
    # "until" is also a word in the log's sentences ("until lifted"): the field's label has a context of its own.
    until = models.DateTimeField(
        pgettext_lazy("a ban's end, as a field", "until"),
        null=True,
        blank=True,
        help_text=_("Leave empty to ban until a moderator lifts it."),
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
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True, editable=False)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("lifted by"),
    )

    objects = BanQuerySet.as_manager()

    class Meta:
        db_table = "rooms_ban"
        ordering = ["-created_at"]
        verbose_name = _("ban")
        verbose_name_plural = _("bans")

    def __str__(self) -> str:
        return gettext("Ban of %(user)s") % {"user": self.user}

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None and (self.until is None or self.until > timezone.now())


class Report(models.Model):
    """Someone asks moderators to look at a message. One per person and message: reporting again updates it."""

    REASON_MAX_LENGTH = 500

    class Resolution(models.TextChoices):
        REMOVED = "removed", _("Message removed")
        REMOVED_ALL = "removed_all", _("All the author's messages in the room removed")
        MUTED = "muted", _("Author muted in the room")
        BANNED = "banned", _("Author banned")
        DISMISSED = "dismissed", _("Dismissed")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports", verbose_name=_("message"))
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports", verbose_name=_("reporter")
    )
    reason = models.CharField(_("reason"), max_length=REASON_MAX_LENGTH)
    # The message as it was when reported: its author may edit it before a moderator looks.
    reported_body = models.TextField(_("reported message"), max_length=Message.MAX_LENGTH, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("resolved by"),
    )
    resolution = models.CharField(
        _("resolution"), max_length=20, choices=Resolution.choices, blank=True, editable=False
    )

    class Meta:
        db_table = "rooms_report"
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="report_unique")]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return gettext("Report by %(reporter)s on message %(message)s") % {
            "reporter": self.reporter,
            "message": self.message_id,
        }

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
        REMOVE = "remove", _("Removed a message")
        REMOVE_ALL = "remove_all", _("Removed all messages by a user in a room")
        REMOVE_REACTION = "remove_reaction", _("Removed a reaction")
        BAN = "ban", _("Banned")
        LIFT_BAN = "lift_ban", _("Lifted a ban")
        MUTE = "mute", _("Muted")
        UNMUTE = "unmute", _("Unmuted")
        LOCK = "lock", _("Locked a room")
        UNLOCK = "unlock", _("Unlocked a room")
        ARCHIVE = "archive", _("Archived a room")
        UNARCHIVE = "unarchive", _("Unarchived a room")
        MAKE_PRIVATE = "make_private", _("Made a room private")
        MAKE_OPEN = "make_open", _("Made a room open")
        DELETE_ROOM = "delete_room", _("Deleted an empty room")
        RESOLVE = "resolve_report", _("Resolved reports")
        DISMISS = "dismiss_report", _("Dismissed reports")

    # PROTECT: the trail must keep who acted; a moderator's account is deactivated, not deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("target user"),
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("room")
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("message")
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    details = models.TextField(_("details"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        db_table = "rooms_moderationlog"
        ordering = ["-created_at", "-pk"]
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")

    def __str__(self) -> str:
        return f"{self.actor}: {self.get_action_display()}"
