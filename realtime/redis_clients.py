"""Redis clients for the worker's own Redis work (presence, flood control), one per event loop.

redis.asyncio connections belong to the event loop that opened them; a worker has one loop, tests run many.
The pool blocks: when a thousand sockets close at once they wait their turn for a connection instead of
failing with "Too many connections" (and, for presence, leaving ghosts behind).
"""

from __future__ import annotations

import asyncio
import weakref


class PerLoop:
    def __init__(self, url: str, max_connections: int, **options) -> None:
        self.url, self.max_connections, self.options = url, max_connections, options
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object] = weakref.WeakKeyDictionary()

    def client(self):
        import redis.asyncio as redis

        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            pool = redis.BlockingConnectionPool.from_url(self.url, max_connections=self.max_connections, **self.options)
            self._clients[loop] = redis.Redis(connection_pool=pool)
        return self._clients[loop]
