"""A network between one browser and the live server that a test can cut, as a laptop losing its network does:
a TCP proxy whose cut resets every connection through it and refuses new ones until it is plugged in again, on
the same port (so the page keeps its address). Playwright's `context.set_offline(True)` alone leaves an open
websocket open in Chromium; a test may use it alongside, for the browser's offline/online events."""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit

from .conftest import HOST


class Wire:
    """A TCP proxy the test can cut (reset every connection through it, refuse new ones) and plug in again on
    the same port, so the browser's page keeps its address."""

    def __init__(self, upstream: str) -> None:
        self.upstream_url = upstream  # the server itself, for browsers that go around the wire
        self.upstream = urlsplit(upstream).port
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.plug_in()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def plug_in(self) -> None:
        async def listen() -> None:
            self.server = await asyncio.start_server(self._connection, HOST, self.port)
            self.port = self.server.sockets[0].getsockname()[1]

        self._run(listen())

    def cut(self) -> None:
        async def cut() -> None:
            self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()  # a reset, not a goodbye: the page sees 1006
            self.writers.clear()

        self._run(cut())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(HOST, self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.transport.abort()
            self.writers.discard(writer)
