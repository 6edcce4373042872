"""Handing events to the channel layer: from async code directly, from synchronous code (a commit hook in a
database thread, a view) through the worker's relay, without waiting for the event loop."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .groups import CLOSE, FRAME, SUBSCRIBE, UNSUBSCRIBE, Html, frame_event, room_group, user_group

log = logging.getLogger(__name__)

# Events a worker keeps while the layer is down, to send once it is back; past it, new frames are dropped
# (pages get them from the database when they reconnect), so a long outage cannot eat the worker's memory.
RELAY_BACKLOG = 10_000


async def publish(group: str, html: Html, skip_user: int | None = None) -> None:
    await get_channel_layer().group_send(group, frame_event(group, html, skip_user))


class Relay:
    """Hands events from synchronous code (a commit hook in a database thread, a view) to the worker's event
    loop without waiting. A database thread blocked until the busy event loop had sent its event was the
    largest cost of a message. While the hub runs, its relay task sends them in the order handed over."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, dict] | None] = asyncio.Queue()
        self.active = True
        self.dropped = 0

    def put(self, group: str, event: dict) -> None:  # on the loop
        if self.active:
            if self.queue.qsize() >= RELAY_BACKLOG and event["type"] == FRAME:
                self.dropped += 1
                if self.dropped == 1:
                    log.error("relay: %d events waiting for the channel layer; dropping new frames", RELAY_BACKLOG)
                return
            self.queue.put_nowait((group, event))
        else:  # the hub stopped after the hand-over began: send it on its own
            self.loop.create_task(get_channel_layer().group_send(group, event))


relay: Relay | None = None  # the running hub's, in a worker process


def _send(group: str, event: dict) -> None:
    current = relay
    if current is not None and not current.loop.is_closed():
        try:
            current.loop.call_soon_threadsafe(current.put, group, event)
            return
        except RuntimeError:  # the loop closed just now (tests end their loops; a worker's lives on)
            pass
    async_to_sync(get_channel_layer().group_send)(group, event)


def send_frames(frames: dict[str, Html]) -> None:
    """Send each group its frame."""
    for group, html in frames.items():
        _send(group, frame_event(group, html))


def subscribe(user_id: int, room_id: int, html: Html) -> None:
    """A person joined a room: each of their open sockets starts following it and adds it to the sidebar."""
    group = user_group(user_id)
    _send(group, {"type": SUBSCRIBE, "group": group, "room_id": room_id, "html": html})


def unsubscribe(room_id: int, html: Html, *, user_id: int | None = None, keep: list[int] | None = None) -> None:
    """Sockets stop following a room at once, and get `html` (the room's page says why): those of one person
    (`user_id`, removed from it), or every socket following it but those of the people in `keep` (its members,
    when the room became private). A hub handles the event before any later frame of the room, so none of
    those reaches them."""
    group = user_group(user_id) if user_id is not None else room_group(room_id)
    _send(group, {"type": UNSUBSCRIBE, "group": group, "room_id": room_id, "html": html, "keep": keep or []})


def close_sockets(group: str, code: int) -> None:
    _send(group, {"type": CLOSE, "group": group, "code": code})
