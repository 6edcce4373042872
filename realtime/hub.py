"""Per-process fan-out: one channel-layer channel per worker, local sockets served from memory.

The Channels-tutorial design gives every socket its own layer channel, so a message to a 100-member room is
100 Redis writes, 100 reads and 100 consumer dispatches. Here each worker process (each event loop) has one
hub: it joins a group on behalf of all its local sockets, so a group send reaches each process once, and the
hub hands the ready frame to its local sockets in a plain loop. Each socket writes through its own bounded
outbox, so a stalled client cannot hold up the room or pile up memory (see `Outbox`).

Housekeeping is per hub too: a few Redis pipelines refresh the presence entries of every local socket, and
sockets that only listen are re-authorized one at a time in the background.

Outages: with Redis, the layer is channels-redis's pub/sub one. A group send is one PUBLISH, and nothing is
kept for a worker whose subscription connection was down; redis-py then reconnects and resubscribes without
a word. So the hub watches (see `_watch_subscription`): when that connection comes back, every local page is
sent to reconnect (1012) and catches up from the database. While the layer fails (a send, a probe every
WATCH seconds), pages show an outage notice, sends are still saved, and what the hub could not send waits
and goes out, in order, once the layer answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable
from typing import Protocol

from channels.layers import get_channel_layer

from . import groups, hooks, presence
from . import relay as relays
from .outbox import Outbox

log = logging.getLogger(__name__)

GROUP_REFRESH = 3600.0  # seconds: re-join groups well before a layer forgets them (the in-memory one's group_expiry)
LISTEN_RECHECK = 300.0  # seconds between re-authorizations of a socket that sends nothing
RETRY = 1.0  # seconds between checks whether the channel layer is back
WATCH = 2.0  # seconds between checks that it still works, so an outage shows on the pages even when all is quiet
PROBE = "hub.probe"  # sent to its own channel to check the layer works
RELAY_TRIES = 5  # attempts at sending one event, each after the layer answered again
LAYER_TIMEOUT = 3.0  # seconds a layer call may take: a Redis that stops answering (not only one that drops) is down
BEAT_SLICE = 100  # sockets whose presence is refreshed in one Redis pipeline


class Socket(Protocol):
    """What the hub needs of a consumer."""

    user_id: int
    language: str  # its page's: it gets frames rendered in that language
    room_id: int | None  # the room its page shows, if any
    presence_keys: list[str]
    presence_member: str
    outbox: Outbox
    authorized_at: float

    def subscribed(self, room_id: int, html: groups.Html) -> None: ...

    def unfollow(self, room_id: int, html: groups.Html) -> None: ...

    async def still_signed_in(self, *, strict: bool) -> bool: ...

    def close_soon(self, code: int) -> None: ...


class Hub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.sockets: set[Socket] = set()
        self.followers: dict[str, set[Socket]] = {}
        self.joined: dict[str, float] = {}  # group -> when this hub last joined it
        self.membership = asyncio.Lock()  # joins and leaves in order, so a leave never undoes a later join
        self.starting = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []
        self.recheck: asyncio.Task | None = None
        self.relay: relays.Relay | None = None
        self.relaying: asyncio.Task | None = None
        self.outage: asyncio.Task | None = None  # while the layer fails: waits for it to answer again
        self.watching = False  # whether the layer tells us when its subscription reconnects

    # ---- sockets come and go ---------------------------------------------------------------------------

    async def attach(self, socket: Socket, groups: list[str]) -> None:
        """Start serving a socket: once this returns, every frame sent to its groups reaches it."""
        if self.channel is None:
            async with self.starting:  # sockets arriving together must not each start a hub
                if self.channel is None:
                    await self._start()
        self.sockets.add(socket)
        presence.language_arrived(socket.language)
        for group in groups:
            await self.follow(socket, group)

    async def _start(self) -> None:
        self.channel = await self.layer.new_channel(prefix="hub")
        self.watching = self._watch_subscription()
        loop = asyncio.get_running_loop()
        self.relay = relays.relay = relays.Relay(loop)
        self.relaying = loop.create_task(self._relay(self.relay))
        self.tasks = [loop.create_task(t) for t in (self._listen(), self._housekeep(), self._watch())]

    def enlist(self, socket: Socket, group: str) -> bool:
        """Hand the socket the group's frames from now on, at once (no await: an `unfollow` dispatched later is
        never undone by this); True if the hub must still join the group on the layer (`follow`)."""
        if socket not in self.sockets:
            return False  # it closed meanwhile
        self.followers.setdefault(group, set()).add(socket)
        return group not in self.joined

    async def follow(self, socket: Socket, group: str) -> None:
        if self.enlist(socket, group):
            await self.join(group)

    async def join(self, group: str) -> None:
        """Join a group on the layer for the local sockets that follow it (if any still do)."""
        async with self.membership:
            if group not in self.joined and self.followers.get(group) and (channel := self.channel):
                await timed(self.layer.group_add(group, channel))
                if self.channel == channel:
                    self.joined[group] = time.monotonic()
                else:  # the hub stopped meanwhile: a new one joins for itself
                    await timed(self.layer.group_discard(group, channel))

    def unfollow(self, socket: Socket, group: str) -> None:
        """Stop handing a socket the group's frames, at once (no await: the next event dispatched already
        misses it). A group left with no follower is left at the next housekeeping round."""
        if (members := self.followers.get(group)) is not None:
            members.discard(socket)
            if not members:
                del self.followers[group]

    async def detach(self, socket: Socket) -> None:
        """Stop serving a socket. Groups it leaves empty are left at the next housekeeping round; the last
        socket out stops the hub (a later one starts it afresh, with a new channel)."""
        self.sockets.discard(socket)
        socket.outbox.shut()
        for group in [g for g, members in self.followers.items() if socket in members]:
            members = self.followers[group]
            members.discard(socket)
            if not members:
                del self.followers[group]
        if not self.sockets and self.channel is not None:
            await self._stop()

    async def _stop(self) -> None:
        # Reset first, without yielding: a socket arriving while the old groups are left starts a new hub.
        channel, groups, tasks = self.channel, list(self.joined), [*self.tasks, self.recheck]
        self.channel, self.joined, self.tasks, self.recheck = None, {}, [], None
        relay, relaying = self.relay, self.relaying
        relay.active = False  # what is handed over from now on goes out on its own
        presence.forget_languages()
        if relays.relay is relay:
            relays.relay = None
        relay.queue.put_nowait(None)  # the relay sends what it holds, then ends
        if self.outage is not None:  # ... unless the layer is down: then nobody is left to receive it anyway
            tasks.extend([self.outage, relaying])
            self.outage = None
        tasks = [t for t in tasks if t is not None]
        # Under the membership lock: housekeeping is not cut off halfway through leaving a group, and a new
        # hub's joins come after these leaves.
        async with self.membership:
            for task in tasks:
                task.cancel()
            # Let them finish cancelling (a cancelled receive also gives up the hub's channel), the relay finish.
            await asyncio.gather(*tasks, relaying, return_exceptions=True)
            try:
                for group in groups:
                    await timed(self.layer.group_discard(group, channel))
            except Exception:  # the layer is down: its subscriptions went with its connection
                log.warning("hub: could not leave %d groups", len(groups))

    # ---- frames in ---------------------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub: receiving failed")
                self._outage_began()
                await self._back()
                continue
            try:
                self.dispatch(event)
            except Exception:  # one bad event must not stop delivery of the rest
                log.exception("hub: could not deliver %r", event.get("type"))

    async def _relay(self, relay: relays.Relay) -> None:
        """Send what synchronous code handed over (relay._send), one after another, in order. What fails
        is sent again once the layer is back: a message saved during an outage must still reach the pages of
        other workers, which have no other way to learn of it."""
        while (item := await relay.queue.get()) is not None:
            group, event = item
            for attempt in range(1, RELAY_TRIES + 1):
                try:
                    await timed(self.layer.group_send(group, event))
                    break
                except Exception as error:
                    # The hub stopped (nobody here is left to tell), or this event fails though the layer
                    # answers probes: drop it rather than hold up the rest (pages catch up on their next gap).
                    if not relay.active or attempt == RELAY_TRIES:
                        log.error("hub: dropped an event for %s after %d tries (%r)", group, attempt, error)
                        break
                    log.warning("hub: could not send to %s (%r); trying again once the layer is back", group, error)
                    self._outage_began()
                    await self._back()

    def dispatch(self, event: dict) -> None:
        members = self.followers.get(event.get("group", ""))
        if not members:
            return
        kind = event["type"]
        if kind == groups.FRAME:
            html, skip = event["html"], event["skip_user"]
            # Two loops rather than a per-socket choice: this runs for every socket of every message.
            if isinstance(html, str):
                for socket in members:
                    if socket.user_id != skip:
                        socket.outbox.put(html)
            else:
                for socket in members:
                    if socket.user_id != skip:
                        socket.outbox.put(groups.in_language(html, socket.language))
        elif kind == groups.SUBSCRIBE:
            for socket in list(members):
                socket.subscribed(event["room_id"], event["html"])
        elif kind == groups.UNSUBSCRIBE:
            keep = set(event["keep"])
            for socket in [s for s in members if s.user_id not in keep]:
                socket.unfollow(event["room_id"], event["html"])
        elif kind == groups.CLOSE:
            for socket in list(members):
                socket.close_soon(event["code"])

    async def _layer_works(self) -> bool:
        try:
            await timed(self.layer.send(self.channel, {"type": PROBE}))
            return True
        except Exception:
            return False

    def _watch_subscription(self) -> bool:
        """Ask to hear when the pub/sub layer's subscription connection comes back after a drop: redis-py calls
        a connection's connect callbacks on every reconnect (after its own, which resubscribes). Whatever was
        published while it was down is lost, so that is when the local pages must catch up. channels-redis
        4.3 has no hook of its own for this (its on_reconnect is never called). False for other layers."""
        loop_layer = getattr(self.layer, "_get_layer", None)
        shards = getattr(loop_layer(), "_shards", []) if loop_layer else []
        connections = [getattr(shard._pubsub, "connection", None) for shard in shards]
        for connection in filter(None, connections):
            connection.register_connect_callback(self._resubscribed)
        return any(connections)

    def _resubscribed(self, connection) -> None:
        log.warning("hub: the channel layer's subscription reconnected; pages reconnect to catch up")
        self._send_pages_to_catch_up()

    def _send_pages_to_catch_up(self) -> None:
        for socket in list(self.sockets):
            socket.close_soon(groups.CLOSE_RECONNECT)

    def _outage_began(self) -> None:
        """The layer failed: say so on every local page (sends still work: they are saved, and delivered
        later), and wait for it to answer again."""
        if self.outage is not None or self.channel is None:
            return
        log.warning("hub: the channel layer is unavailable; pages are told, and catch up once it is back")
        self._tell_pages(hooks.outage_frame(True))
        self.outage = asyncio.get_running_loop().create_task(self._await_recovery())

    async def _await_recovery(self) -> None:
        while True:  # polling: nothing announces that Redis is back
            await asyncio.sleep(RETRY)
            if await self._layer_works():
                break
        log.warning("hub: the channel layer is back")
        self.outage = None
        self._tell_pages(hooks.outage_frame(False))
        if not self.watching:  # no word from the layer on what it lost: assume the worst
            self._send_pages_to_catch_up()

    async def _back(self) -> None:
        """Until the layer answers again (at once if it is not known to be down)."""
        if self.outage is not None:
            try:
                await asyncio.shield(self.outage)
            except Exception:  # whatever went wrong there, the caller goes on (and tries the layer again)
                log.exception("hub: waiting for the channel layer failed")

    def _tell_pages(self, frame: groups.Html) -> None:
        for socket in self.sockets:
            socket.outbox.put(groups.in_language(frame, socket.language))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH)
            if self.outage is None and not await self._layer_works():
                self._outage_began()

    # ---- housekeeping ----------------------------------------------------------------------------------

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(presence.HEARTBEAT)
            try:
                await self._beat()
            except Exception:
                log.exception("hub: housekeeping failed")
                if not await self._layer_works():  # only an outage is an outage; a bug is just logged
                    self._outage_began()

    async def _beat(self) -> None:
        sockets = list(self.sockets)
        # In slices, letting frames through in between: one pipeline for a thousand sockets held the event
        # loop for about 100 ms, and every delivery behind it (bench: p99 40 -> 600 ms in a 1000-member room).
        for start in range(0, len(sockets), BEAT_SLICE):
            # Only sockets still here: one that closed since the round began has removed its entry for good.
            chunk = [s for s in sockets[start : start + BEAT_SLICE] if s in self.sockets]
            await presence.store.touch_many([(s.presence_keys, s.presence_member) for s in chunk])
            await asyncio.sleep(0)
        # Entries of sockets that died without closing (a crashed worker) expire; say so once pruned.
        rooms = sorted({s.room_id for s in sockets if s.room_id is not None})
        pruned = await presence.store.prune_many([presence.room_key(r) for r in rooms])
        for room_id, count in zip(rooms, pruned, strict=True):
            if count:
                presence.announce(room_id)
        await presence.refresh_languages({s.language for s in sockets})
        await self._leave_idle_groups()
        now = time.monotonic()
        due = [s for s in sockets if now - s.authorized_at >= LISTEN_RECHECK]
        if due and (self.recheck is None or self.recheck.done()):
            self.recheck = asyncio.get_running_loop().create_task(self._reauthorize(due))

    async def _leave_idle_groups(self) -> None:
        now = time.monotonic()
        async with self.membership:
            for group, joined_at in list(self.joined.items()):
                if not self.followers.get(group):
                    del self.joined[group]  # first, so a follower arriving meanwhile joins afresh after us
                    await timed(self.layer.group_discard(group, self.channel))
                elif now - joined_at > GROUP_REFRESH:
                    await timed(self.layer.group_add(group, self.channel))
                    self.joined[group] = now

    async def _reauthorize(self, due: list[Socket]) -> None:
        """A socket that only listens would otherwise outlive an expired session (ended sessions, password
        changes and deactivations close sockets at once through signals). One at a time, in the background."""
        for socket in due:
            if socket in self.sockets:
                try:
                    await socket.still_signed_in(strict=True)
                except Exception:
                    log.exception("hub: re-authorizing a socket failed")


def timed(call: Awaitable):
    return asyncio.wait_for(call, LAYER_TIMEOUT)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub: one per worker process (tests run several loops, each with its own)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]
