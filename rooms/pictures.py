"""Pictures from outside (a linked page's, a shared file's), decoded safely and written again by Roomcast: what it
serves in their place is always a WebP it made, without any of the file's metadata (EXIF with a phone's GPS
position, ICC, XMP), whatever the file claimed to be."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# EXIF orientations that turn the picture a quarter: its width and height swap when shown upright.
_QUARTER_TURNS = {5, 6, 7, 8}


class NotAPicture(Exception):
    """Not one of FORMATS, or truncated or corrupt."""


class TooManyPixels(NotAPicture):
    """Decoded, a picture takes 4 bytes a pixel: a small file can unpack to gigabytes (a "decompression bomb")."""


@contextmanager
def opened(source: bytes | IO[bytes], max_pixels: int) -> Iterator[Image.Image]:
    """The picture, its header read (nothing decoded yet), or NotAPicture / TooManyPixels. Errors Pillow raises
    while decoding inside the block are NotAPicture too."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            # Pillow only warns up to twice its own limit: make that a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=FORMATS) as image:
                if image.width * image.height > max_pixels:
                    raise Image.DecompressionBombError  # our own, lower, limit: refused as Pillow's is
                yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise NotAPicture from None


def upright_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as the picture shows (a phone's portrait photo is stored sideways with a rotation tag),
    from what its header says: nothing is decoded (getexif() would decode a whole PNG to find a late chunk)."""
    exif = Image.Exif()
    if raw := image.info.get("exif"):
        exif.load(raw)
    turned = exif.get(ImageOps.ExifTags.Base.Orientation) in _QUARTER_TURNS
    return (image.height, image.width) if turned else (image.width, image.height)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image from the pixels alone: Pillow carries the source's EXIF and ICC profile (image.info) through
    transposing and resizing, and some encoders write part of it by themselves."""
    return Image.frombytes(image.mode, image.size, image.tobytes())


def clean_copy(image: Image.Image) -> bytes | None:
    """The whole picture again, upright, in its own format, with nothing but its pixels (no EXIF with a phone's
    GPS position, no XMP, no comments): what is served as the original. None for an animated GIF or WebP, kept
    as sent (their frames would not survive; GIF carries no EXIF)."""
    if getattr(image, "is_animated", False):
        return None
    upright = ImageOps.exif_transpose(image)
    keeps_alpha = image.format != "JPEG" and upright.has_transparency_data
    mode = "RGBA" if keeps_alpha else "L" if upright.mode == "L" else "RGB"
    if upright.mode != mode:  # a palette, 16-bit or CMYK picture: plain pixels, as its format writes them
        upright = upright.convert(mode)
    out = io.BytesIO()
    options = {"JPEG": {"quality": 92}, "WEBP": {"quality": 90}}.get(image.format, {})
    _pixels_only(upright).save(out, image.format, **options)
    return out.getvalue()


def small_webp(image: Image.Image, side: int, *, quality: int = 80) -> tuple[bytes, int, int]:
    """An opened picture (its first frame), upright, fitting side x side, as a WebP of ours; its width and
    height."""
    image.draft("RGB", (side, side))  # a JPEG decodes straight at 1/2, 1/4 or 1/8 scale
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((side, side), Image.Resampling.LANCZOS)
    clean = _pixels_only(upright.convert("RGBA" if upright.has_transparency_data else "RGB"))
    out = io.BytesIO()
    clean.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue(), clean.width, clean.height
