"""The websocket adapter: authorize, parse a frame, call the service, forward pre-rendered frames.

One socket per page. It follows the person's own group and the groups of all their rooms (so sidebar badges
stay live anywhere in the app), and marks presence in the room the page shows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser

from . import presence, realtime, services
from .models import Membership

log = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
UNREADABLE = "That message could not be read; please try again."
PRESENCE_DEBOUNCE = 0.5  # seconds: many joins and leaves at once make one presence frame per room
TYPING_MIN_INTERVAL = 1.0  # seconds between typing frames from one socket, whatever the page sends
AUTH_RECHECK = 5.0  # seconds a frame's authorization holds for the next ones (see _still_signed_in)

# Per event loop (one per worker; tests run several), the room flushes scheduled and not yet run.
_presence_flushes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Task]] = (
    weakref.WeakKeyDictionary()
)


def schedule_presence(room_id: int, channel_layer) -> None:
    """Broadcast the room's online list soon, once, however many sockets came and went meanwhile."""
    loop = asyncio.get_running_loop()
    pending = _presence_flushes.setdefault(loop, {})
    if room_id not in pending:
        pending[room_id] = loop.create_task(_flush_presence(room_id, channel_layer, pending))


async def _flush_presence(room_id: int, channel_layer, pending: dict[int, asyncio.Task]) -> None:
    await asyncio.sleep(PRESENCE_DEBOUNCE)
    # From here on a change schedules another flush: this one may already have read the list without it.
    pending.pop(room_id, None)
    try:
        names = await presence.online_in_room(room_id)
        frame = services.presence_frame(room_id, names)
        await channel_layer.group_send(realtime.viewers_group(room_id), realtime.frame_event(frame))
    except Exception:  # best effort: the next change or heartbeat prune tries again
        log.exception("presence: flush failed for room %s", room_id)


def parse_frame(text_data: str | None) -> dict:
    if text_data is None:
        raise services.ChatError("This socket only takes text frames.")
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        raise services.ChatError(UNREADABLE) from None
    if not isinstance(data, dict):
        raise services.ChatError(UNREADABLE)
    return data


def field(data: dict, name: str, kind: type):
    value = data.get(name)
    if kind is int:
        if isinstance(value, str):
            value = services.parse_number(value)  # form fields arrive as strings
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
            raise services.ChatError(UNREADABLE)
    elif not isinstance(value, kind):
        raise services.ChatError(UNREADABLE)
    return value


def current_user(session_key: str | None):
    """The account behind a session now, as Django's own request auth sees it: anonymous once the session
    is gone (logout, expiry), the password changed, or the account was deactivated."""
    if not session_key:
        return AnonymousUser()
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(SimpleNamespace(session=fresh))


class ChatConsumer(AsyncWebsocketConsumer):
    heartbeat: asyncio.Task | None = None  # set once the socket is accepted; its presence lives as long

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.room_id: int | None = self.scope["url_route"]["kwargs"].get("room_id")
        self.followed: set[str] = set()
        self.last_typing = 0.0
        self.authorized_at = time.monotonic()
        refusal = None
        if not self.user.is_authenticated:
            refusal = realtime.CLOSE_SIGNED_OUT
        elif (room_ids := await self._followed_rooms()) is None:
            refusal = CLOSE_NOT_FOUND
        if refusal is not None:
            # Accept, then close with 4xxx: a refusal before accept looks like 1006 to the browser, which the
            # ws extension would retry forever.
            await self.accept()
            await self.close(code=refusal)
            return
        groups = [
            realtime.user_group(self.user.pk),
            realtime.session_group(self.scope["session"].session_key),
            *map(realtime.room_group, room_ids),
        ]
        if self.room_id is not None:
            groups.append(realtime.viewers_group(self.room_id))
        # Follow everything before accepting, so nothing sent once the page sees the socket open is missed.
        for group in groups:
            await self._follow(group)
        await self.accept()
        await self._presence_arrive()
        self.heartbeat = asyncio.create_task(self._beat())

    @database_sync_to_async
    def _followed_rooms(self) -> list[int] | None:
        """The person's rooms; None if the page's room is not theirs to see."""
        room_ids = set(Membership.objects.filter(user=self.user).values_list("room_id", flat=True))
        if self.room_id is not None and self.room_id not in room_ids:
            if services.accessible_room(self.user, self.room_id) is None:
                return None
            room_ids.add(self.room_id)
        return sorted(room_ids)

    async def _follow(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.followed.add(group)

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def __call__(self, scope, receive, send) -> None:
        # If the consumer dies of an error, disconnect() never runs: still stop the heartbeat and leave, or
        # the heartbeat would keep a ghost "online" for as long as the process lives.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._leave()

    async def _leave(self) -> None:
        if self.heartbeat is None:
            return
        self.heartbeat.cancel()
        self.heartbeat = None
        await self._presence_leave()
        try:
            for group in self.followed:
                await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:  # the layer is down: its group entries expire on their own
            log.exception("leaving groups failed for %s", self.channel_name)

    # ---- presence --------------------------------------------------------------------------------------

    @property
    def _presence_keys(self) -> list[str]:
        keys = [presence.user_key(self.user.pk)]
        if self.room_id is not None:
            keys.append(presence.room_key(self.room_id))
        return keys

    @property
    def _presence_member(self) -> str:
        return presence.Entry(self.channel_name, self.user.pk, self.user.get_username()).encode()

    async def _presence_arrive(self) -> None:
        try:
            await presence.store.touch(self._presence_keys, self._presence_member)
            if self.room_id is not None:
                schedule_presence(self.room_id, self.channel_layer)
            if await self._is_only_socket():
                await self._tell_partners(online=True)
        except Exception:  # presence is best effort; chat works without it
            log.exception("presence: arrive failed for user %s", self.user.pk)

    async def _presence_leave(self) -> None:
        try:
            await presence.store.remove(self._presence_keys, self._presence_member)
            if self.room_id is not None:
                schedule_presence(self.room_id, self.channel_layer)
            if not await presence.online_users([self.user.pk]):
                await self._tell_partners(online=False)
        except Exception:  # presence is best effort; a closing socket must still close
            log.exception("presence: leave failed for user %s", self.user.pk)

    async def _is_only_socket(self) -> bool:
        return (await presence.store.counts([presence.user_key(self.user.pk)]))[0] == 1

    async def _tell_partners(self, *, online: bool) -> None:
        """Online dots: the people who share a direct conversation with this person see them come and go."""
        partners = await database_sync_to_async(services.dm_partner_ids)(self.user.pk)
        frame = realtime.frame_event(services.dot_frame(self.user.pk, online))
        for partner in partners:
            await self.channel_layer.group_send(realtime.user_group(partner), frame)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(presence.HEARTBEAT)
            try:
                # A socket that only listens is re-authorized too: an expired session stops receiving.
                if not await self._still_signed_in(strict=True):
                    return
                await presence.store.touch(self._presence_keys, self._presence_member)
                # Entries of sockets that died without closing (a crashed worker) expire; say so once pruned.
                if self.room_id is not None and await presence.store.prune(presence.room_key(self.room_id)):
                    schedule_presence(self.room_id, self.channel_layer)
                await presence.store.prune(presence.user_key(self.user.pk))
            except Exception:
                log.exception("presence: heartbeat failed for user %s", self.user.pk)

    # ---- frames from the page ----------------------------------------------------------------------------

    ACTIONS = frozenset({"send", "edit", "delete", "typing", "read", "catch_up"})

    async def _still_signed_in(self, *, strict: bool) -> bool:
        """scope["user"] was fixed at connect: check the account as it is now (session ended or expired,
        password changed, deactivated, rights changed). At most every few seconds, except for `strict`
        actions (edit, delete) whose permission must be current; the signals close sockets at once anyway."""
        now = time.monotonic()
        if not strict and now - self.authorized_at < AUTH_RECHECK:
            return True
        user = await database_sync_to_async(current_user)(self.scope["session"].session_key)
        if user.pk != self.user.pk:
            await self.close(code=realtime.CLOSE_SIGNED_OUT)
            return False
        self.user, self.authorized_at = user, now
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        data: dict = {}
        try:
            data = parse_frame(text_data)
            action = data.get("action", "send")
            if not isinstance(action, str) or action not in self.ACTIONS:
                raise services.ChatError(UNREADABLE)
            if action == "typing" and time.monotonic() - self.last_typing < TYPING_MIN_INTERVAL:
                return  # throttled before it costs anything
            if not await self._still_signed_in(strict=action in {"edit", "delete"}):
                return
            reply = await getattr(self, f"on_{action}")(data)
        except services.ChatError as error:
            client_id = data.get("client_id")
            reply = services.render_status(str(error), client_id if isinstance(client_id, str) else None)
        if reply:
            await self.send(text_data=reply)

    def _room(self) -> int:
        if self.room_id is None:
            raise services.ChatError("Open a room or a conversation to send messages.")
        return self.room_id

    async def on_send(self, data: dict) -> str:
        body = field(data, "body", str)
        client_id = services.parse_client_id(data.get("client_id"))
        await database_sync_to_async(services.post_message)(self.user, self._room(), body, client_id)
        self.last_typing = 0.0  # a sent message ends a typing burst, as on the page: the next one shows at once
        return services.render_status(client_id=client_id, ok=True)

    async def on_edit(self, data: dict) -> str:
        await database_sync_to_async(services.edit_message)(
            self.user, field(data, "message_id", int), field(data, "body", str)
        )
        return ""

    async def on_delete(self, data: dict) -> str:
        await database_sync_to_async(services.delete_message)(self.user, field(data, "message_id", int))
        return ""

    async def on_typing(self, data: dict) -> str:
        room_id = self._room()
        self.last_typing = time.monotonic()
        frame = services.typing_frame(self.user, room_id)
        await self.channel_layer.group_send(
            realtime.viewers_group(room_id), realtime.frame_event(frame, skip_user=self.user.pk)
        )
        return ""

    async def on_read(self, data: dict) -> str:
        await database_sync_to_async(services.mark_read)(self.user, self._room(), field(data, "seq", int))
        return ""

    async def on_catch_up(self, data: dict) -> str:
        """Sent by the page on every (re)connect: what it missed in its room, and fresh unread counts."""
        after = field(data, "after", int)

        def gather() -> tuple[str, list[int]]:
            missed = services.catch_up_frame(self.user, self.room_id, after) if self.room_id is not None else ""
            return missed + services.unread_frame(self.user), services.dm_partner_ids(self.user.pk)

        frames, partners = await database_sync_to_async(gather)()
        # Dots too: a partner whose worker crashed went offline without anyone being told.
        try:
            online = await presence.online_users(partners)
        except Exception:  # presence is best effort; the catch-up itself must arrive
            log.exception("presence: dots lookup failed for user %s", self.user.pk)
            return frames
        return frames + services.dots_frame({p: p in online for p in partners})

    # ---- events from the channel layer ---------------------------------------------------------------

    async def chat_frame(self, event: dict) -> None:
        if event.get("skip_user") != self.user.pk:
            await self.send(text_data=event["html"])

    async def chat_subscribe(self, event: dict) -> None:
        await self._follow(realtime.room_group(event["room_id"]))
        if event["html"]:
            await self.send(text_data=event["html"])

    async def chat_close(self, event: dict) -> None:
        await self.close(code=event["code"])
