"""A link's card: the page's own description of itself (rooms/previews/opengraph.py) and its picture, both
fetched through the guard (fetch.py). The picture is decoded and written again as a small WebP of ours, so what
Roomcast serves in its place is always an image it made, whatever the site sent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import pictures
from . import opengraph
from .fetch import Refused, fetch

log = logging.getLogger(__name__)

PAGE_BYTES = 1024 * 1024  # the first MiB of a page: its <head> is at the start
IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
# Decoded, a picture takes 4 bytes a pixel: a small file can unpack to gigabytes (a "decompression bomb").
MAX_PIXELS = 25_000_000
SIDE = 160  # the stored picture fits this square: twice the card's box, for sharp screens


@dataclass(frozen=True)
class Card:
    """What a LinkPreview (rooms/models/link_preview.py) stores besides its message and link."""

    title: str
    description: str
    site_name: str
    image: bytes | None  # WebP
    image_width: int | None
    image_height: int | None
    image_alt: str


def build(url: str) -> Card:
    """The card for `url`, or Refused (no page, or a page without a title). A picture that cannot be had leaves
    the card without one."""
    page = fetch(url, types={"text/html"}, max_bytes=PAGE_BYTES, cut=True)
    meta = opengraph.parse(page.body, page.charset, page.url)
    if not meta.title:
        raise Refused("the page has no title")
    image, width, height = None, None, None
    if meta.image_url:
        try:
            image, width, height = thumbnail(fetch(meta.image_url, types=IMAGE_TYPES, max_bytes=IMAGE_BYTES).body)
        except Refused as why:
            log.info("link preview of %s: no picture (%s)", url, why)
    site_name = meta.site_name or opengraph.clean(urlsplit(url).hostname or "", opengraph.SITE_NAME)
    return Card(meta.title, meta.description, site_name, image, width, height, meta.image_alt)


def thumbnail(data: bytes) -> tuple[bytes, int, int]:
    """The picture in `data` (JPEG, PNG, GIF or WebP: its first frame) as a WebP that fits SIDE x SIDE, without
    any of the file's metadata; its width and height. Refused if it is not such a picture."""
    try:
        with pictures.opened(data, MAX_PIXELS) as image:
            return pictures.small_webp(image, SIDE)
    except pictures.TooManyPixels:
        raise Refused("too many pixels") from None
    except pictures.NotAPicture:
        raise Refused("not a picture") from None
