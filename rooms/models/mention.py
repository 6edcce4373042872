"""Mentions: who a message names (@name), or reached with @here, for their badge and their Mentions page."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .message import Message


class Mention(models.Model):
    """Rows are written with the message (and rewritten when it is edited); a removed message's stay, hidden
    with it. The page's highlight does not read them: the stored HTML's mention links say whom it names."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions", verbose_name=_("message"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("person mentioned")
    )
    # One of the person's keywords, found by the notification pass (rooms/notify/), not an @name: an edit of the
    # message leaves it.
    keyword = models.BooleanField(_("by a keyword"), default=False, db_default=False)

    class Meta:
        # Leading with the person: "my mentions" (the page, the badges) reads along it.
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="mention_unique")]
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")

    def __str__(self) -> str:
        return f"@{self.user} in {self.message_id}"
