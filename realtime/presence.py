"""Who is online: per room (sockets viewing it) and per person (any socket at all).

Each socket is an entry with an expiry time, refreshed by its worker's hub every HEARTBEAT in pipelines,
in a Redis sorted set shared by every worker process (or, in the embedded single-process setup, an in-memory
copy of the same). A socket that closes removes its entry; a crashed worker's entries simply expire, so
ghosts last at most TTL seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from . import hooks
from .groups import viewers_group
from .redis_clients import PerLoop
from .relay import publish

log = logging.getLogger(__name__)

TTL = 30.0  # seconds an entry lives without a heartbeat
HEARTBEAT = 10.0  # how often each hub refreshes its sockets' entries
POOL_SIZE = 20  # Redis connections per worker for presence
DEBOUNCE = 0.5  # seconds: many joins and leaves at once make one presence frame per room
CROWD, CROWD_DEBOUNCE = 100, 5.0  # from this many online, announcements are gathered for this long


@dataclass(frozen=True)
class Entry:
    socket: str  # unique per socket
    user_id: int
    name: str  # as the room's viewers see it named

    def encode(self) -> str:
        # The name last: it may contain "|" (a display name); socket ids are hex.
        return f"{self.user_id}|{self.socket}|{self.name}"

    @staticmethod
    def decode(raw: str | bytes) -> Entry:
        if isinstance(raw, bytes):
            raw = raw.decode()
        user_id, socket, name = raw.split("|", 2)
        return Entry(socket, int(user_id), name)


def room_key(room_id: int) -> str:
    return f"{settings.PRESENCE_PREFIX}:room:{room_id}"


def watching_key(room_id: int) -> str:
    """The sockets whose page shows the room and is in front (not a hidden tab): nobody is notified of what
    they are watching."""
    return f"{settings.PRESENCE_PREFIX}:watching:{room_id}"


def user_key(user_id: int) -> str:
    return f"{settings.PRESENCE_PREFIX}:user:{user_id}"


def language_key(language: str) -> str:
    """The sockets whose pages are in this language: pushed frames are rendered for the languages in use."""
    return f"{settings.PRESENCE_PREFIX}:language:{language}"


class RedisStore:
    def __init__(self, url: str) -> None:
        self.redis = PerLoop(url, POOL_SIZE, timeout=TTL)

    def _client(self):
        return self.redis.client()

    async def touch(self, keys: list[str], member: str, ttl: float = TTL) -> None:
        await self.touch_many([(keys, member)], ttl)

    async def touch_many(self, entries: list[tuple[list[str], str]], ttl: float = TTL) -> None:
        """Refresh many sockets' entries in one round trip."""
        expires = time.time() + ttl
        by_key: dict[str, dict[str, float]] = defaultdict(dict)
        for keys, member in entries:
            for key in keys:
                by_key[key][member] = expires
        async with self._client().pipeline(transaction=False) as pipe:
            for key, members in by_key.items():
                pipe.zadd(key, members)
                pipe.expire(key, int(TTL * 2))  # a room nobody visits again leaves no key behind
            await pipe.execute()

    async def remove(self, keys: list[str], member: str) -> None:
        async with self._client().pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrem(key, member)
            await pipe.execute()

    async def live(self, key: str) -> list[str]:
        return [m.decode() for m in await self._client().zrangebyscore(key, time.time(), "+inf")]

    async def prune_many(self, keys: list[str]) -> list[int]:
        """Drop expired entries (sockets of a crashed worker); how many went from each key."""
        now = time.time()
        async with self._client().pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zremrangebyscore(key, "-inf", now)
            return await pipe.execute()

    async def counts(self, keys: list[str]) -> list[int]:
        now = time.time()
        async with self._client().pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zcount(key, now, "+inf")
            return await pipe.execute()


class MemoryStore:
    """The same operations for the embedded setup, where there is exactly one process."""

    def __init__(self) -> None:
        self._sets: dict[str, dict[str, float]] = defaultdict(dict)

    async def touch(self, keys: list[str], member: str, ttl: float = TTL) -> None:
        await self.touch_many([(keys, member)], ttl)

    async def touch_many(self, entries: list[tuple[list[str], str]], ttl: float = TTL) -> None:
        expires = time.time() + ttl
        for keys, member in entries:
            for key in keys:
                self._sets[key][member] = expires

    async def remove(self, keys: list[str], member: str) -> None:
        for key in keys:
            self._sets[key].pop(member, None)

    async def live(self, key: str) -> list[str]:
        now = time.time()
        return [m for m, expires in self._sets[key].items() if expires > now]

    async def prune_many(self, keys: list[str]) -> list[int]:
        now = time.time()
        pruned = []
        for key in keys:
            dead = [m for m, expires in self._sets[key].items() if expires <= now]
            for m in dead:
                del self._sets[key][m]
            pruned.append(len(dead))
        return pruned

    async def counts(self, keys: list[str]) -> list[int]:
        return [len(await self.live(key)) for key in keys]


store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()


async def online_in_room(room_id: int) -> list[str]:
    """The names of the people with at least one socket on the room's page, each once, sorted."""
    return sorted({Entry.decode(m).name for m in await store.live(room_key(room_id))}, key=str.lower)


async def viewers_of(room_id: int) -> set[int]:
    """The people with at least one socket on the room's page now (@here reaches them)."""
    return {Entry.decode(m).user_id for m in await store.live(room_key(room_id))}


async def watching(room_id: int) -> set[int]:
    """The people with the room's page open and in front, in some tab, now."""
    return {Entry.decode(m).user_id for m in await store.live(watching_key(room_id))}


async def sockets_of(user_id: int) -> int:
    """How many pages (sockets) the person has open now, on every worker."""
    return (await store.counts([user_key(user_id)]))[0]


async def online_users(user_ids: list[int]) -> set[int]:
    counts = await store.counts([user_key(u) for u in user_ids])
    return {u for u, n in zip(user_ids, counts, strict=True) if n}


# The languages of the pages open on any worker, as this process last heard (its hub reads them from the store
# every HEARTBEAT), plus its own sockets' at once; None while it serves no sockets and so does not know. A
# new set each time, never changed in place: the database threads that render frames read it unlocked.
_languages: set[str] | None = None


def languages_in_use() -> set[str] | None:
    """The languages to render a pushed frame in (None: unknown, so all of them)."""
    return _languages


def language_arrived(language: str) -> None:
    global _languages
    if _languages is None or language not in _languages:
        _languages = {*(_languages or ()), language}


async def refresh_languages(local: set[str]) -> None:
    """Every worker's pages' languages, from the store (entries of crashed workers pruned first)."""
    global _languages
    codes = [code for code, _ in settings.LANGUAGES]
    keys = [language_key(code) for code in codes]
    await store.prune_many(keys)
    counts = await store.counts(keys)
    _languages = {code for code, n in zip(codes, counts, strict=True) if n} | local


def forget_languages() -> None:
    global _languages
    _languages = None


# Per event loop (one per worker; tests run several), the room announcements scheduled and not yet sent, and
# how many were online in each room at its last announcement.
@dataclass
class _Due:
    viewers: bool = False  # who has the room open changed
    members: set[int] = field(default_factory=set)  # members who came online or went offline
    task: asyncio.Task | None = None  # the announcement (held here, or it could be collected before it runs)


_pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Due]] = weakref.WeakKeyDictionary()
_crowds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, int]] = weakref.WeakKeyDictionary()


def announce(room_id: int, *, member: int | None = None) -> None:
    """Tell the room's viewers soon, once however many sockets came and went meanwhile, who has it open, or
    that `member` (one of its members) came online or went offline anywhere: their dot in its members panel."""
    loop = asyncio.get_running_loop()
    pending = _pending.setdefault(loop, {})
    due = pending.get(room_id)
    if due is None:
        due = pending[room_id] = _Due()
        due.task = loop.create_task(_announce(room_id, due, pending, _crowds.setdefault(loop, {})))
    if member is None:
        due.viewers = True
    else:
        due.members.add(member)


async def _announce(room_id: int, due: _Due, pending: dict[int, _Due], crowds: dict[int, int]) -> None:
    # Every announcement goes to every viewer: in a crowded room, comings and goings are gathered for longer,
    # or a rush of arrivals (everyone at 9:00) costs viewers x arrivals frames.
    await asyncio.sleep(CROWD_DEBOUNCE if crowds.get(room_id, 0) >= CROWD else DEBOUNCE)
    # From here on a change schedules another announcement: this one may already have read the list without it.
    pending.pop(room_id, None)
    try:
        if due.viewers:
            names = await online_in_room(room_id)
            crowds[room_id] = len(names)
            await publish(viewers_group(room_id), hooks.presence_frame(room_id, names))
        if due.members:
            members = sorted(due.members)
            online = await online_users(members)
            await publish(viewers_group(room_id), hooks.dots_frame({m: m in online for m in members}))
    except Exception:  # best effort: the next change or heartbeat prune tries again
        log.exception("presence: announcing room %s failed", room_id)
