"""Notifications: a person's settings for them, their devices' Web Push subscriptions, and how far each room's
messages have been considered for notifying (rooms/notify/)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .room import Room


class NotificationSettings(models.Model):
    """Made on first need (a save of the settings page, or an away email scheduled); until then the defaults."""

    DEFAULT_EMAIL_AFTER = 10  # minutes

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_settings",
        verbose_name=_("user"),
    )
    keywords = models.TextField(
        _("keywords"),
        blank=True,
        max_length=1000,
        help_text=_("Words that notify you like a mention, one per line or separated by commas."),
    )
    sound = models.BooleanField(_("play a sound"), default=True)
    # 0: never. Counted from the first message waiting; one email gathers all that wait then.
    email_after = models.PositiveSmallIntegerField(
        _("email me after (minutes)"),
        default=DEFAULT_EMAIL_AFTER,
        help_text=_("Mentions and direct messages still unread this many minutes later are emailed to you. 0: never."),
    )
    email_due_at = models.DateTimeField(null=True, editable=False)  # when the scheduled away email goes
    emailed_until = models.DateTimeField(null=True, editable=False)  # the last email told what was said until then

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user)


class PushSubscription(models.Model):
    """One device's (one browser profile's) Web Push subscription, and what became of the last push to it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions", verbose_name=_("user")
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(max_length=100)  # the browser's public key (base64url), for RFC 8291
    auth = models.CharField(max_length=50)  # its authentication secret (base64url)
    device = models.CharField(_("device"), max_length=100, blank=True)  # "Chrome on Linux", from its User-Agent
    language = models.CharField(_("language"), max_length=16)  # its page's when it subscribed: pushes speak it
    # The login it was made in: logging out there takes the device off (a shared computer stays quiet).
    session_key = models.CharField(max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)  # the push service's
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"{self.user} · {self.device}"

    @property
    def delivered(self) -> bool:
        return self.last_status is not None and 200 <= self.last_status < 300


class RoomNotified(models.Model):
    """The last message of the room considered for notifications: each is considered once, in order. Apart
    from the room's row, which every send locks."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, primary_key=True, related_name="+")
    upto = models.BigIntegerField()  # a seq

    def __str__(self) -> str:
        return f"{self.room_id}: {self.upto}"
