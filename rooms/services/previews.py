"""Link previews: the first http(s) link of a message gets a card, fetched by the task worker (`manage.py
db_worker`), never while the message is sent, and added to the message as a change of its own: it takes the
room's next change number and is broadcast like an edit, so pages that were away get it in their catch-up."""

from __future__ import annotations

import logging
from dataclasses import asdict
from html.parser import HTMLParser

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.tasks import task

from .. import access, frames
from ..models import LinkPreview, Message, Room
from ..previews import Card, Refused, build
from . import store

log = logging.getLogger(__name__)


class _FirstLink(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and self.href is None and href.lower().startswith(("http://", "https://")):
            self.href = href


def first_link(html: str) -> str | None:
    """The first http(s) link of a message's stored HTML (rooms/formatting.py makes every link an <a href>)."""
    if 'href="http' not in html:  # most messages: no parsing at all
        return None
    finder = _FirstLink()
    finder.feed(html)
    return finder.href


def queue(message: Message) -> None:
    """Once the message is committed, ask the worker for its link's card, if it has a link."""
    # A link longer than a card keeps (LinkPreview.url) gets none: better than fetching it for nothing.
    if (url := first_link(message.html)) and len(url) <= LinkPreview._meta.get_field("url").max_length:
        transaction.on_commit(lambda: fetch_preview.enqueue(message.pk, url), robust=True)


def follow_edit(message: Message, html_before: str) -> None:
    """An edited message whose first link changed: its card goes at once (inside the edit's transaction, so its
    frame shows none), and the new link's is asked for."""
    if first_link(message.html) == first_link(html_before):
        return
    if (card := card_of(message)) is not None:
        card.delete()
        Message.link_preview.related.set_cached_value(message, None)  # the frame shows none, without asking
    queue(message)


def card_of(message: Message) -> LinkPreview | None:
    """The message's card, as loaded with it (for_display): no query."""
    try:
        return message.link_preview
    except LinkPreview.DoesNotExist:
        return None


@task()
def fetch_preview(message_id: int, url: str) -> None:
    """The worker's part: fetch the card (through the guard, rooms/previews/fetch.py) and attach it, unless the
    message has gone or no longer links there first."""
    html = Message.objects.filter(pk=message_id, deleted_at__isnull=True).values_list("html", flat=True).first()
    if html is None or first_link(html) != url:
        return
    try:
        card = build(url)
    except Refused as why:
        log.info("no link preview for message %s: %s", message_id, why)
        return
    attach(message_id, url, card)


def attach(message_id: int, url: str, card: Card) -> Message | None:
    """Store `card` as the message's, under the room's next change number, and broadcast the message on commit.
    None if it was deleted, or edited to link elsewhere first, while the card was being fetched."""
    with transaction.atomic():
        # The message row before the room's, the order an edit and a removal take them in.
        message = (
            Message.objects.for_display()
            .select_for_update(of=("self",))
            .filter(pk=message_id, deleted_at__isnull=True)
            .first()
        )
        if message is None or first_link(message.html) != url:
            return None
        if (previous := card_of(message)) is not None:
            previous.delete()
        message.link_preview = LinkPreview.objects.create(message=message, url=url, **asdict(card))
        message.changed_seq, _ = store.next_change(message.room_id)
        message.save(update_fields=["changed_seq"])
        transaction.on_commit(lambda: frames.broadcast([message]), robust=True)
    return message


def link_image(user: AbstractBaseUser, preview_id: int) -> bytes | None:
    """A card's picture, for someone who may read its message's room (and the message is still there)."""
    image = (
        LinkPreview.objects.filter(
            pk=preview_id,
            image__isnull=False,
            message__deleted_at__isnull=True,
            message__room__in=Room.objects.filter(access.readable(user)),
        )
        .values_list("image", flat=True)
        .first()
    )
    return bytes(image) if image is not None else None
