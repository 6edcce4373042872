"""One socket's outgoing frames: bounded, written in order, never holding up the room."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

OUTBOX_LIMIT = 256  # frames waiting for one socket; beyond it the client is too slow and is sent away
OUTBOX_CHARS = 2 * 1024 * 1024  # characters waiting for one socket: a few catch-ups' worth


class Outbox:
    """Frames on their way to one socket, written in order by a task that exists only while there are some.

    Most sends complete at once; a send that waits means the client's TCP window is full. Frames then queue
    here up to OUTBOX_LIMIT frames or OUTBOX_CHARS characters, and past either the socket is closed with 1013
    ("try again later"): the page reconnects and catches up from the database, and the room never waits for
    it. Counting characters too bounds the memory a client that asks and never reads can hold (a catch-up is
    one frame of up to CATCH_UP_MAX_BYTES). Frames put before the socket is accepted wait for `open()`."""

    __slots__ = ("chars", "closed", "frames", "on_overflow", "put_count", "ready", "send", "writer", "written")

    def __init__(self, send: Callable[[dict], Awaitable[None]], on_overflow: Callable[[], None]) -> None:
        self.frames: deque[str] = deque()
        self.chars = 0  # characters waiting in `frames`
        self.put_count = self.written = 0  # frames ever put, and ever written (see `delivered`)
        self.writer: asyncio.Task | None = None
        self.send = send
        self.on_overflow = on_overflow
        self.ready = self.closed = False

    def put(self, html: str) -> int:
        """Queue a frame; returns its number, for `delivered`."""
        if self.closed:
            return self.put_count
        if len(self.frames) >= OUTBOX_LIMIT or self.chars + len(html) > OUTBOX_CHARS:
            self.shut()
            self.on_overflow()
            return self.put_count
        self.frames.append(html)
        self.chars += len(html)
        self.put_count += 1
        self._write_soon()
        return self.put_count

    def delivered(self, number: int) -> bool:
        """Whether frame `number` (from `put`) has been handed to the server (or dropped with the socket)."""
        return self.closed or self.written >= number

    def open(self) -> None:
        self.ready = True
        if self.frames and not self.closed:
            self._write_soon()

    def _write_soon(self) -> None:
        if self.writer is None and self.ready:
            self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while self.frames and not self.closed:
                frame = self.frames.popleft()
                self.chars -= len(frame)
                await self.send({"type": "websocket.send", "text": frame})
                self.written += 1
        except Exception:  # the client went away mid-write: its disconnect arrives on its own
            self.shut()
        finally:
            self.writer = None

    def shut(self) -> None:
        self.closed = True
        self.frames.clear()
        self.chars = 0
