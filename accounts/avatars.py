"""Profile pictures: an upload is checked with Pillow and re-encoded as a 256 px square WebP under a random name.

Re-encoding from the decoded pixels is what strips EXIF (a phone photo's GPS position, camera, date), ICC,
XMP and comments: nothing of the uploaded file but its picture is kept, and what is served is always an image
we wrote, whatever the upload claimed to be.
"""

from __future__ import annotations

import io
import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from rooms import pictures

SIDE = 256
MAX_BYTES = 5 * 1024 * 1024
# Decoded, a picture takes 4 bytes a pixel: a small file can unpack to gigabytes (a "decompression bomb").
# 40 megapixels covers phone cameras' photos; JPEGs, the usual large ones, are decoded at a fraction of it.
MAX_PIXELS = 40_000_000
ACCEPT = "image/png,image/jpeg,image/webp,image/gif"  # the file picker's filter (the server checks anyway)

TOO_LARGE = _("This picture is %(size)s: pictures up to %(limit)s are accepted.")
TOO_MANY_PIXELS = _("This picture has more than %(limit)s million pixels: choose a smaller one.")
NOT_A_PICTURE = _("This file is not a picture Roomcast can read: choose a PNG, JPEG, WebP or GIF image.")


def upload_to(instance: object, filename: str) -> str:
    """A random name, never the uploaded one (which can say whose it is, or be crafted): every avatar is a
    WebP this module wrote."""
    return f"avatars/{secrets.token_urlsafe(16)}.webp"


def process(upload: UploadedFile) -> ContentFile:
    """The upload as a square avatar (the middle of the picture, turned as its EXIF orientation says), or a
    ValidationError saying what is wrong with it. Animated GIFs and WebPs give their first frame."""
    if upload.size > MAX_BYTES:
        raise ValidationError(
            TOO_LARGE,
            code="too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_BYTES)},
        )
    try:
        with pictures.opened(upload, MAX_PIXELS) as image:
            image.draft(None, (2 * SIDE, 2 * SIDE))  # a JPEG decodes straight at 1/2, 1/4 or 1/8 scale
            square = _square(image)
    except pictures.TooManyPixels:
        raise ValidationError(
            TOO_MANY_PIXELS, code="too_many_pixels", params={"limit": MAX_PIXELS // 1_000_000}
        ) from None
    except pictures.NotAPicture:
        raise ValidationError(NOT_A_PICTURE, code="not_a_picture") from None
    # A new image from the pixels alone: Pillow carries the source's EXIF and ICC profile (image.info) through
    # transposing and resizing; the WebP encoder writes only what it is passed, but others (PNG's) write some
    # of it by themselves, and this stays true whatever the format.
    clean = Image.frombytes(square.mode, square.size, square.tobytes())
    out = io.BytesIO()
    clean.save(out, "WEBP", quality=85, method=6)
    return ContentFile(out.getvalue(), name="avatar.webp")


def _square(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)  # a phone's portrait photo is stored sideways with a rotation tag
    upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
    return ImageOps.fit(upright, (SIDE, SIDE), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
