"""Flood control per person: a burst, then a steady rate, held across every worker process.

GCRA (the generic cell rate algorithm: a token bucket kept as one timestamp per person and bucket). The
"theoretical arrival time" (TAT) moves one interval on with each action; an action is allowed while the TAT
is less than `burst` intervals ahead of now. With Redis that is one Lua script, so one round trip, atomic,
and on Redis's clock, which every worker shares; the embedded setup (one process) keeps the same in memory.

Buckets have names (`BUCKETS`); callers say which one an action draws from (the socket's actions in
rooms/protocol.py) and word the refusal themselves. Writes share one bucket and are refused with a notice
when it is empty. A page's catch-up (an expensive query) has its own lenient bucket and waits its turn
instead, since a page whose catch-up is refused would show a stale room; only a client asking for far more
is refused. Typing notices and read marks have quiet buckets of their own (past them the frame is dropped:
nothing to tell), and so do opening a socket, creating a room and uploading a file.

Before any of these, each socket has a budget of frames in memory (`FrameBudget`), checked before a frame is
even parsed: the person-wide buckets above cost a Redis round trip each, which a flood of frames must not.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from .redis_clients import PerLoop

log = logging.getLogger(__name__)

CATCH_UP_MAY_WAIT = 5.0  # seconds a catch-up waits for its turn before it is refused
REDIS_TIMEOUT = 1.0  # seconds: a Redis that does not answer lets the frame through rather than stall chat
POOL_SIZE = 20  # Redis connections per worker for flood control
MEMORY_KEYS = 10_000  # the in-memory twin forgets full buckets once it holds this many

# KEYS[1]: the bucket. ARGV: interval (ms per action), burst, the longest the action may wait (ms).
# Returns the ms to wait before acting (0: at once), or minus the ms until a slot frees (refused: nothing
# taken). The key expires when the bucket is full again, so idle people leave nothing behind.
GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, burst, may_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
local wait = tat + interval - burst * interval - now
if wait > may_wait then
  return -wait
end
redis.call('SET', KEYS[1], string.format('%d', tat + interval), 'PX', tat + interval - now)
return math.max(wait, 0)
"""


@dataclass(frozen=True)
class Bucket:
    name: str
    burst: int  # actions allowed at once
    rate: float  # actions per second once the burst is spent
    may_wait: float = 0.0  # seconds an action may wait for its turn instead of being refused


# The buckets, by name, as configured now (settings are read on each use, so tests can change them). Which
# action draws from which is the caller's to say: the socket's actions name theirs in rooms/protocol.py.
BUCKETS: dict[str, Callable[[], Bucket]] = {
    # Sends, edits, deletes and reports: refused with a notice when empty.
    "write": lambda: Bucket("write", settings.SEND_BURST, settings.SEND_RATE),
    # A page's catch-up waits its turn rather than show a stale room.
    "catch_up": lambda: Bucket("catch_up", settings.CATCH_UP_BURST, settings.CATCH_UP_RATE, CATCH_UP_MAY_WAIT),
    # Typing notices and read marks, per person across their sockets: past these the frame is dropped quietly.
    "typing": lambda: Bucket("typing", 3, 1.0),
    "read": lambda: Bucket("read", 20, 5.0),
    # Reactions: each is a change every viewer of the room receives. A person clicks a few in a row, not more.
    "react": lambda: Bucket("react", 10, 2.0),
    "connect": lambda: Bucket("connect", settings.CONNECT_BURST, settings.CONNECT_RATE),
    "room": lambda: Bucket("room", settings.ROOMS_BURST, settings.ROOMS_PER_HOUR / 3600),
    "upload": lambda: Bucket("upload", settings.UPLOAD_BURST, settings.UPLOAD_RATE),
}


def bucket(name: str) -> Bucket | None:
    """The named bucket as configured now (None: limits off for it)."""
    configured = BUCKETS[name]()
    return configured if configured.burst > 0 and configured.rate > 0 else None


class RedisStore:
    def __init__(self, url: str) -> None:
        timeouts = {"timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
        self.redis = PerLoop(url, POOL_SIZE, **timeouts)
        self.script = None  # GCRA, registered once: EVALSHA, loading it into a Redis that does not have it yet

    async def take(self, key: str, interval_ms: int, burst: int, may_wait_ms: int) -> int:
        client = self.redis.client()
        if self.script is None:
            self.script = client.register_script(GCRA)
        return int(await self.script(keys=[key], args=[interval_ms, burst, may_wait_ms], client=client))


class MemoryStore:
    """The same bucket for the embedded setup, where there is exactly one process."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    async def take(self, key: str, interval_ms: int, burst: int, may_wait_ms: int) -> int:
        now = time.monotonic() * 1000
        tat = max(self._tat.get(key, 0.0), now)
        wait = tat + interval_ms - burst * interval_ms - now
        if wait > may_wait_ms:
            return -math.ceil(wait)
        if len(self._tat) >= MEMORY_KEYS:  # a TAT in the past is a full bucket, the same as no entry
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        self._tat[key] = tat + interval_ms
        return max(math.ceil(wait), 0)


store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()
_warned_at = -math.inf


class SlowDown(Exception):
    """Refused by flood control: `wait_ms` until the person may try again (the caller tells them, in words that
    fit what they tried)."""

    def __init__(self, wait_ms: int) -> None:
        super().__init__(f"wait {wait_ms} ms")
        self.wait_ms = wait_ms


class FrameBudget:
    """One socket's frames: settings.FRAME_BURST at once, then FRAME_RATE a second (GCRA, in memory: no Redis,
    no allocation, so it runs before anything else does). A page sends far fewer: a send a second at most once
    its burst is spent, a typing notice every few seconds, a read mark per new message seen, a catch-up per
    reconnect. Past it frames are dropped unread (a page's unanswered sends go again after a reconnect)."""

    __slots__ = ("burst", "interval", "tat")

    def __init__(self) -> None:
        self.tat = 0.0
        off = settings.FRAME_BURST <= 0 or settings.FRAME_RATE <= 0
        self.interval = 0.0 if off else 1 / settings.FRAME_RATE
        self.burst = settings.FRAME_BURST

    def take(self) -> bool:
        if not self.interval:
            return True
        now = time.monotonic()
        tat = max(self.tat, now)
        if tat - now > (self.burst - 1) * self.interval:
            return False
        self.tat = tat + self.interval
        return True


async def check(user_id: int, name: str) -> None:
    """Returns once the person may go ahead in the named bucket (a catch-up may first wait its turn); raises
    SlowDown, with the time to wait, when they must slow down."""
    global _warned_at
    limit = bucket(name)
    if limit is None:
        return
    key = f"{settings.CHANNEL_PREFIX}:limit:{limit.name}:{user_id}"
    interval_ms = max(1, round(1000 / limit.rate))
    try:
        wait_ms = await store.take(key, interval_ms, limit.burst, round(limit.may_wait * 1000))
    except Exception:  # Redis down or slow: chat goes on unlimited rather than failing every send
        if time.monotonic() - _warned_at > 60:  # once a minute, not once per frame, during an outage
            _warned_at = time.monotonic()
            log.warning("flood control is off for now: Redis is unavailable", exc_info=True)
        return
    if wait_ms < 0:
        raise SlowDown(-wait_ms)
    if wait_ms:
        await asyncio.sleep(wait_ms / 1000)
