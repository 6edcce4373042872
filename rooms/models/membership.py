"""Who is in which room, and how far they have read it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .room import Room


class Membership(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("room"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    # The highest message seq this person has seen in the room; unread = later messages by others.
    last_read_seq = models.BigIntegerField(_("read up to"), default=0)

    class Involvement(models.TextChoices):
        """How much of the room reaches the person: the sidebar's badges now, notifications later."""

        EVERYTHING = "everything", _("Everything")
        MENTIONS = "mentions", _("Mentions only")
        NOTHING = "nothing", _("Nothing (muted)")

    involvement = models.CharField(
        _("involvement"),
        max_length=10,
        choices=Involvement.choices,
        default=Involvement.EVERYTHING,
        db_default=Involvement.EVERYTHING,  # memberships a worker of the previous version makes during a deploy
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="membership_unique")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return gettext("%(user)s in %(room)s") % {"user": self.user, "room": self.room}
