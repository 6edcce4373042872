"""A message's link card: what the page its first link leads to says of itself, and that page's picture."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .message import Message


class LinkPreview(models.Model):
    # One card per message: the one for its first link. A new one (the link edited) is a new row, so the
    # picture's address changes with it and browsers may keep each for long.
    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="link_preview", verbose_name=_("message")
    )
    url = models.URLField(_("link"), max_length=2048)
    # Plain text as the page gave it (trimmed): the template escapes it.
    title = models.CharField(_("title"), max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True)
    site_name = models.CharField(_("site name"), max_length=80, blank=True)
    # The page's picture, written again by Roomcast as a small WebP (rooms/previews/card.py) and served by it
    # (rooms.views.link_image), so readers' browsers never contact the linked site.
    image = models.BinaryField(_("picture"), null=True, blank=True, editable=False)
    image_width = models.PositiveSmallIntegerField(_("picture width"), null=True, blank=True)
    image_height = models.PositiveSmallIntegerField(_("picture height"), null=True, blank=True)
    image_alt = models.CharField(_("picture description"), max_length=200, blank=True)
    fetched_at = models.DateTimeField(_("fetched at"), auto_now_add=True)

    class Meta:
        verbose_name = _("link preview")
        verbose_name_plural = _("link previews")

    def __str__(self) -> str:
        return self.title
