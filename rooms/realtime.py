"""Channel-layer addressing: one group per room (open or direct), one per person, one per login session.

Groups are joined by each worker's hub (hub.py), not by sockets: a group send reaches every process with a
follower once, and the hub hands the frame to its local sockets. Every socket of a person follows the groups
of all their rooms, so a message reaches their room page and their sidebar badges elsewhere alike.
Everything pushed is a ready HTML frame, rendered once.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

# Close codes are 4xxx so the ws extension does not retry: signed out, and no longer allowed in.
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
# "Service restart": the page reconnects at once and is authorized afresh.
CLOSE_RECONNECT = 1012
# "Try again later": the client fell too far behind, or the channel layer is down; the page reconnects (with
# backoff) and catches up from the database.
CLOSE_TRY_LATER = 1013
# What a server that refuses to send those from an application (daphne) sends instead.
DAPHNE_CODES = {CLOSE_RECONNECT: 4012, CLOSE_TRY_LATER: 4013}

# What a hub does with an event: push a frame; make a person's sockets follow a room; close sockets.
FRAME, SUBSCRIBE, CLOSE = "hub.frame", "hub.subscribe", "hub.close"
# Events a worker keeps while the layer is down, to send once it is back; past it, new frames are dropped
# (pages get them from the database when they reconnect), so a long outage cannot eat the worker's memory.
RELAY_BACKLOG = 10_000


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def viewers_group(room_id: int) -> str:
    """Sockets of pages showing the room: what only matters on screen (typing, who is online) goes here."""
    return f"room.{room_id}.viewers"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    """Sockets opened with one login session: logging out closes them all."""
    return f"session.{session_key}"


def frame_event(group: str, html: str, skip_user: int | None = None) -> dict:
    """`skip_user` keeps a frame from its originator's own sockets (nobody sees themselves typing)."""
    return {"type": FRAME, "group": group, "html": html, "skip_user": skip_user}


async def publish(group: str, html: str, skip_user: int | None = None) -> None:
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


def send_frames(frames: dict[str, str]) -> None:
    """Send each group its frame."""
    for group, html in frames.items():
        _send(group, frame_event(group, html))


def subscribe(user_id: int, room_id: int, html: str) -> None:
    """A person joined a room: each of their open sockets starts following it and adds it to the sidebar."""
    group = user_group(user_id)
    _send(group, {"type": SUBSCRIBE, "group": group, "room_id": room_id, "html": html})


def close_sockets(group: str, code: int) -> None:
    _send(group, {"type": CLOSE, "group": group, "code": code})
