"""What a shared file is, read from its content (never its name or the browser's word), and so how it is shown:
a picture inline, a video or a sound played inline, anything else a card to download. The browser shows inline
only the types in INLINE; everything else, SVG and HTML first (they can carry scripts), is a download."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import IO

import puremagic
from django.utils.translation import gettext, pgettext

from .. import pictures
from ..models import Attachment

# Decoded, a picture takes 4 bytes a pixel (and its copies while it is made smaller): past this it is shared as
# a download, never decoded for a preview. 25 megapixels: a phone's photo at its usual size, a 5000 px square.
MAX_PIXELS = 25_000_000
SNIFF_BYTES = 8192  # magic numbers sit at the start
VIDEO = {"video/mp4", "video/webm", "video/ogg"}
AUDIO = {"audio/mpeg", "audio/ogg", "audio/wav", "audio/webm", "audio/mp4", "audio/flac"}
INLINE = set(pictures.TYPES.values()) | VIDEO | AUDIO
DOWNLOAD_TYPE = "application/octet-stream"
ALIASES = {"application/ogg": "audio/ogg", "audio/x-wav": "audio/wav", "audio/x-flac": "audio/flac"}


class Refused(Exception):
    """An upload that is not taken, with the sentence saying why (in the person's language)."""


@dataclass(frozen=True)
class Inspected:
    content_type: str
    kind: str
    width: int | None = None
    height: int | None = None
    notice: str = ""  # said to the uploader: taken, but not as they might expect


def inspect(upload: IO[bytes], name: str) -> Inspected:
    """Sniff `upload` (a file named `name`). Refused when the name says one kind of media and the content another
    (an HTML page named .png, say)."""
    try:
        with pictures.opened(upload, MAX_PIXELS) as image:
            width, height = pictures.upright_size(image)
            return Inspected(pictures.TYPES[image.format], Attachment.Kind.IMAGE, width, height)
    except pictures.TooManyPixels:
        notice = gettext("“%(name)s” has too many pixels to preview safely: it is shared as a download.") % {
            "name": name
        }
        return Inspected(mimetypes.guess_type(name)[0] or DOWNLOAD_TYPE, Attachment.Kind.FILE, notice=notice)
    except pictures.NotAPicture:
        pass
    upload.seek(0)
    sniffed = _sniff(upload.read(SNIFF_BYTES), name)
    upload.seek(0)
    if sniffed in VIDEO or sniffed in AUDIO:
        return Inspected(sniffed, Attachment.Kind.VIDEO if sniffed in VIDEO else Attachment.Kind.AUDIO)
    claimed = mimetypes.guess_type(name)[0]
    if claimed in INLINE and sniffed == claimed:  # what it says it is, but Pillow cannot read it
        raise Refused(
            gettext("“%(name)s” cannot be read as %(claimed)s: it may be damaged. Nothing was uploaded.")
            % {"name": name, "claimed": describe(claimed)}
        )
    if claimed in INLINE:  # named like a picture, a video or a sound, but not one
        raise Refused(
            gettext("“%(name)s” is named like %(claimed)s, but its content is %(actual)s. Nothing was uploaded.")
            % {"name": name, "claimed": describe(claimed), "actual": describe(sniffed or DOWNLOAD_TYPE)}
        )
    notice = ""
    if sniffed == "image/svg+xml" or claimed == "image/svg+xml":
        notice = gettext("“%(name)s” is shared as a download: SVG pictures can carry scripts, so they are never shown.")
        notice %= {"name": name}
    return Inspected(sniffed or claimed or DOWNLOAD_TYPE, Attachment.Kind.FILE, notice=notice)


def _sniff(head: bytes, name: str) -> str:
    """The type the content's magic numbers say. The name only ranks the types those numbers fit (an MP3's
    ID3 header fits a rarer format better): it never makes the content something it is not."""
    try:
        sniffed = puremagic.from_string(head, mime=True, filename=name) if head else ""
    except puremagic.PureError:
        return ""
    return ALIASES.get(sniffed, sniffed)


def served_type(attachment: Attachment) -> tuple[str, bool]:
    """The Content-Type a file is served with, and whether the browser may show it inline: only pictures,
    videos and sounds of the known-safe types; anything else goes as an opaque download."""
    inline = attachment.kind != Attachment.Kind.FILE and attachment.content_type in INLINE
    return (attachment.content_type, True) if inline else (DOWNLOAD_TYPE, False)


def describe(content_type: str) -> str:
    """A file's type in words, for its card and for refusals: "PDF document", "ZIP archive", or "PNG image"."""
    known = {
        "application/pdf": pgettext("file type", "PDF document"),
        "application/zip": pgettext("file type", "ZIP archive"),
        "text/plain": pgettext("file type", "text file"),
        "text/html": pgettext("file type", "HTML page"),
        "image/svg+xml": pgettext("file type", "SVG picture"),
        DOWNLOAD_TYPE: pgettext("file type", "unknown data"),
    }
    if content_type in known:
        return known[content_type]
    family, _, subtype = content_type.partition("/")
    subtype = subtype.removeprefix("x-").removeprefix("vnd.").split("+")[0].split(".")[-1].upper()
    if family == "image":
        return pgettext("file type", "%(format)s image") % {"format": subtype}
    if family == "video":
        return pgettext("file type", "%(format)s video") % {"format": subtype}
    if family == "audio":
        return pgettext("file type", "%(format)s audio") % {"format": subtype}
    return pgettext("file type", "%(format)s file") % {"format": subtype}
