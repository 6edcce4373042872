"""Files shared in a room: uploaded first (each on its own, with its progress), then sent with a message, whose
access rule, removal and catch-up they follow. The bytes live in the "files" storage under random keys
(rooms/services/files.py); the name people gave the file is kept only to show and to download it as."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .message import Message
from .room import Room

BOX = (360, 270)  # CSS pixels an inline picture may take; its thumbnail is made at twice that, for sharp screens


class Attachment(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("image")  # a thumbnail inline, the original in the lightbox
        VIDEO = "video", _("video")  # played inline
        AUDIO = "audio", _("audio")
        FILE = "file", _("file")  # a card: name, size, type; downloaded, never shown by the browser

    MAX_PER_MESSAGE = 10

    # Null until the message that carries it is sent: an upload nobody sent is purged after a day.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    # Where it was uploaded: it may be sent only there.
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+", verbose_name=_("room"))
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    key = models.CharField(_("stored as"), max_length=100, editable=False)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    # Sniffed from the content, never taken from the name or the browser.
    content_type = models.CharField(_("type"), max_length=100)
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices, default=Kind.FILE)
    # An image's size as it shows (upright), known at upload: the page reserves its box before the thumbnail.
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    thumbnail_key = models.CharField(_("thumbnail stored as"), max_length=100, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("file")
        verbose_name_plural = _("files")

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.IMAGE

    @property
    def type_label(self) -> str:
        """The type in words, in the reader's language ("PDF document")."""
        from ..files.kinds import describe

        return describe(self.content_type)

    @cached_property  # the partial asks for its width and height several times
    def box(self) -> tuple[int, int]:
        """The inline picture's box: the image scaled to fit BOX (never up), so the page keeps its place."""
        width, height = self.width or 1, self.height or 1
        scale = min(1.0, BOX[0] / width, BOX[1] / height)
        return max(1, round(width * scale)), max(1, round(height * scale))

    @property
    def box_width(self) -> int:
        return self.box[0]

    @property
    def box_height(self) -> int:
        return self.box[1]
