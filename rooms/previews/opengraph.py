"""What a linked page says of itself: its OpenGraph tags (og:title, og:description, og:site_name, og:image and
its alt text), else its <title> and meta description. Read with the standard library's HTML parser, up to the
end of <head>, as plain text: the card's template escapes it like anything else a person could have written."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

TITLE = 200
DESCRIPTION = 300
SITE_NAME = 80
IMAGE_ALT = 200
URL = 2048
FEED = 8 * 1024  # parsed this much at a time, so it stops soon after </head>
# C0 and C1 control characters (NUL included, which PostgreSQL text cannot hold) become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Meta:
    title: str
    description: str
    site_name: str
    image_url: str | None  # absolute, http(s)
    image_alt: str


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self.in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:  # past the head: the page's own text, which anyone may have written
            return
        if tag == "meta":
            attributes = dict(attrs)
            key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
            if key and attributes.get("content"):
                self.meta.setdefault(key, attributes["content"] or "")  # the first of each, as OpenGraph says
        elif tag == "title" and not self.title:
            self.in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)


def parse(body: bytes, charset: str | None, url: str) -> Meta:
    """The page's card fields, trimmed, from its HTML `body` (in `charset`, else the one it declares, else
    UTF-8); `url` is where it came from, against which a relative picture address is resolved."""
    head = _Head()
    text = body.decode(_encoding(body, charset), errors="replace")
    for start in range(0, len(text), FEED):
        head.feed(text[start : start + FEED])
        if head.done:
            break
    meta = head.meta
    return Meta(
        title=clean(meta.get("og:title") or "".join(head.title), TITLE),
        description=clean(meta.get("og:description") or meta.get("description", ""), DESCRIPTION),
        site_name=clean(meta.get("og:site_name", ""), SITE_NAME),
        image_url=_image_url(meta.get("og:image") or meta.get("og:image:url") or meta.get("og:image:secure_url"), url),
        image_alt=clean(meta.get("og:image:alt", ""), IMAGE_ALT),
    )


def clean(text: str, limit: int) -> str:
    """One line of plain text, at most `limit` characters (cut at a word, with an ellipsis)."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut) + "…"


def _encoding(body: bytes, charset: str | None) -> str:
    declared = _META_CHARSET.search(body[:2048])
    for name in (charset, declared and declared[1].decode("ascii")):
        if name:
            try:
                str(b"x", name, "replace")  # a text encoding: "rot13" and "hex" are codecs, but not bytes to text
                return codecs.lookup(name).name
            except LookupError:
                continue
    return "utf-8"


def _image_url(value: str | None, page_url: str) -> str | None:
    if not value:
        return None
    absolute = urljoin(page_url, value.strip())
    return absolute if urlsplit(absolute).scheme in {"http", "https"} and len(absolute) <= URL else None
