"""The websocket adapter: authorize, parse a frame, call the service, push pre-rendered frames.

One socket per page. It follows the person's own group and the groups of all their rooms (so sidebar badges
stay live anywhere in the app), and marks presence in the room the page shows. It has no channel-layer
channel of its own: its worker's hub (hub.py) receives for every local socket and writes to its outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
import re
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header

import realtime
from realtime import hub, limits, presence
from realtime.outbox import Outbox

from . import access, frames, naming, protocol, services
from .errors import slow_down
from .models import Membership

log = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429  # the person already has SOCKETS_PER_PERSON pages open
UNREADABLE = gettext_lazy("That message could not be read; please try again.")
# Bytes in one text frame: a 4,000-character message fits even with every character escaped (6 bytes each).
# Uvicorn refuses larger frames itself (--ws-max-size 65536 in the README); daphne accepts up to 1 MiB.
MAX_FRAME = 64 * 1024
TOO_LARGE = gettext_lazy("That message is too large to send.")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # "\ud83d": half of a character, maybe alone
TYPING_MIN_INTERVAL = 1.0  # seconds between typing frames from one socket, whatever the page sends
# A catch-up is answered only while the socket's outbox holds less than this: a client that asks again and
# again without reading its answers gets no more of them (and is closed once its outbox is full).
CATCH_UP_BACKLOG = 64 * 1024
AUTH_RECHECK = 5.0  # seconds a frame's authorization holds for the next ones (see still_signed_in)

# Sockets' database work runs on a pool of threads, each with its own connection, so one socket's queries
# never queue behind another's (channels' default runs all of a process's on one thread). Each socket still
# handles its frames one after another.
DB_POOL = ThreadPoolExecutor(max_workers=settings.DB_THREADS, thread_name_prefix="roomcast-db")


def db(fn):
    return database_sync_to_async(fn, thread_sensitive=False, executor=DB_POOL)


def parse_frame(text_data: str | None) -> dict:
    if text_data is None:
        raise services.ChatError(gettext("This socket only takes text frames."))
    # Before parsing: JSON's cost grows with the frame. Characters first: no encoding for the usual frame.
    if len(text_data) > MAX_FRAME // 4 and len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME:
        raise services.ChatError(str(TOO_LARGE))
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        raise services.ChatError(str(UNREADABLE)) from None
    if not isinstance(data, dict):
        raise services.ChatError(str(UNREADABLE))
    if SURROGATE_ESCAPE.search(text_data):
        try:
            data = well_formed(data)
        except RecursionError:
            raise services.ChatError(str(UNREADABLE)) from None
    return data


def well_formed(value):
    """JSON can carry half a character (a lone surrogate) that UTF-8, the database and the wire cannot: it
    becomes U+FFFD, as a browser does when it submits such text in a form."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [well_formed(v) for v in value]
    if isinstance(value, dict):
        return {well_formed(k): well_formed(v) for k, v in value.items()}
    return value


def field(data: dict, name: str, kind: type):
    value = data.get(name)
    if kind is int:
        if isinstance(value, str):
            value = services.parse_number(value)  # form fields arrive as strings
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
            raise services.ChatError(str(UNREADABLE))
    elif not isinstance(value, kind):
        raise services.ChatError(str(UNREADABLE))
    return value


def client_id_of(data: dict) -> str | None:
    """The request's name the page chose (its answer carries it back), if the frame gave a usable one."""
    client_id = data.get("client_id")
    return client_id if isinstance(client_id, str) else None


def reply_to(data: dict, text: str) -> str:
    """A positive answer naming the request it answers (the page shows it in that request's form)."""
    return frames.render_status(text, client_id_of(data), ok=True)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the zone files once, not per socket


def page_locale(scope: dict) -> tuple[str, zoneinfo.ZoneInfo | None]:
    """The language and time zone of the page that opened the socket: the page says (its URL's lang and tz,
    which the server rendered from the person's settings); else the browser's Accept-Language, the default
    language, and no zone (times go out in UTC, and the page shows them in the browser's zone)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = [*query.get("lang", [])[:1]]
    headers = dict(scope.get("headers", []))
    asked += [code for code, _ in parse_accept_lang_header(headers.get(b"accept-language", b"").decode("latin-1"))]
    language = settings.LANGUAGE_CODE
    for code in asked:
        try:
            language = translation.get_supported_language_variant(code)
            break
        except LookupError:
            continue
    name = query.get("tz", [""])[0]
    return language, zoneinfo.ZoneInfo(name) if name in _zones() else None


def current_user(session_key: str | None):
    """The account behind a session now, as Django's own request auth sees it: anonymous once the session
    is gone (logout, expiry), the password changed, or the account was deactivated."""
    if not session_key:
        return AnonymousUser()
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(SimpleNamespace(session=fresh))


class ChatConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = None  # no layer channel per socket: the worker's hub receives for all of them
    hub: hub.Hub | None = None  # set while the hub serves this socket
    closing: int | None = None  # the close code, once something decided to close it
    closer: asyncio.Task | None = None

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.user_id = self.user.pk
        self.language, self.zone = page_locale(self.scope)
        self.room_id: int | None = self.scope["url_route"]["kwargs"].get("room_id")
        page = self.room_id  # `unfollow` forgets the room_id of a room the person was removed from
        self.last_typing = 0.0
        self.read_upto = 0  # the highest read mark this socket has sent on: lower ones change nothing
        self.catch_up_frame = 0  # the outbox number of its last catch-up answer (one in flight at a time)
        self.budget = limits.FrameBudget()
        self.authorized_at = time.monotonic()
        self.outbox = Outbox(self.base_send, self._too_slow)
        self.revoked: set[int] = set()  # rooms the person was removed from since the socket began
        refusal = None
        if not self.user.is_authenticated:
            refusal = realtime.CLOSE_SIGNED_OUT
        elif not await self._may_connect():
            refusal = realtime.CLOSE_TRY_LATER  # the page retries, backing off
        elif await self._too_many_open():
            refusal = CLOSE_TOO_MANY
        if refusal is not None:
            await self._refuse(refusal)
            return
        self.presence_member = presence.Entry(uuid.uuid4().hex, self.user.pk, naming.shown_name(self.user)).encode()
        self.presence_keys = [presence.user_key(self.user.pk), presence.language_key(self.language)]
        # Follow everything before accepting, so nothing sent once the page sees the socket open is missed;
        # frames arriving meanwhile wait in the outbox until it opens (a refused socket's are never sent). The
        # person's own group and the page's room first, then the rooms the database has for them: a removal
        # (to the person's group) or the room becoming private (to the room's) committed after that read
        # reaches the socket, and `revoked` is checked before each follow, so no room is followed on stale rights.
        self.hub = hub.hub()
        try:
            own = [realtime.user_group(self.user.pk), realtime.session_group(self.scope["session"].session_key)]
            if page is not None:
                own += [realtime.room_group(page), realtime.viewers_group(page)]
            await self.hub.attach(self, own)
            if (room_ids := await self._followed_rooms()) is None or (self.room_id is None and page is not None):
                await self._leave()
                await self._refuse(CLOSE_NOT_FOUND)
                return
            for room_id in room_ids:
                if room_id != page and room_id not in self.revoked:
                    await self.hub.follow(self, realtime.room_group(room_id))
            if self.room_id is not None:
                # In front until the page says otherwise (a tab opened in the background does, once open).
                self.presence_keys += [presence.room_key(self.room_id), presence.watching_key(self.room_id)]
        except Exception:  # the channel layer (Redis) is down: "try again later", the page retries
            log.warning("refusing a socket of user %s for now: the channel layer is unavailable", self.user_id)
            await self._leave()
            await self._refuse(realtime.CLOSE_TRY_LATER)
            return
        # The account as it is now that the socket follows its groups: a ban, logout or deactivation committed
        # while it was joining sent its close event before this worker listened for it.
        await self.still_signed_in(strict=True)
        await self.accept()
        if self.closing is not None:  # closed while joining (a logout, say): now that it is accepted
            await self._close(self.closing)
            return
        self.outbox.open()
        await self._presence_arrive()

    async def _refuse(self, code: int) -> None:
        # Accept, then close: a refusal before accept looks like 1006 to the browser, which the ws extension
        # would retry forever; the close code says whether it should (1013) or not (4xxx).
        await self.accept()
        await self._close(code)

    async def _may_connect(self) -> bool:
        """Opening sockets in a loop costs queries and presence announcements: flood control, before those."""
        try:
            await limits.check(self.user.pk, "connect")
        except limits.SlowDown:
            log.warning("refusing a socket of user %s for now: opening sockets too fast", self.user.pk)
            return False
        return True

    async def _too_many_open(self) -> bool:
        """Each socket holds memory and a share of every broadcast: one person may keep only so many open
        (across workers: presence counts them in Redis). A soft cap: sockets opening at the same moment may
        pass it by a few; if presence cannot tell, the socket is let in."""
        try:
            return await presence.sockets_of(self.user.pk) >= settings.SOCKETS_PER_PERSON
        except Exception:
            log.warning("presence unavailable: socket limit not checked for user %s", self.user.pk)
            return False

    @db
    def _followed_rooms(self) -> list[int] | None:
        """The person's rooms; None if the page's room is not theirs to see."""
        room_ids = set(Membership.objects.filter(user=self.user).values_list("room_id", flat=True))
        if self.room_id is not None and self.room_id not in room_ids:
            if access.readable_room(self.user, self.room_id) is None:
                return None
            room_ids.add(self.room_id)
        return sorted(room_ids)

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def __call__(self, scope, receive, send) -> None:
        # If the consumer dies of an error, disconnect() never runs: still leave the hub and presence, or a
        # ghost would stay "online" for as long as the process lives.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._leave()

    async def _leave(self) -> None:
        if self.hub is None:
            return
        serving, self.hub = self.hub, None
        await serving.detach(self)
        await self._presence_leave()

    # ---- what the hub asks of a socket -------------------------------------------------------------------

    def subscribed(self, room_id: int, html: realtime.Html) -> None:
        """The person joined a room: follow it here too, at once (an `unfollow` handled after this is never
        undone by it), and add it to this page's sidebar."""
        self.revoked.discard(room_id)
        if self.hub is not None and self.hub.enlist(self, group := realtime.room_group(room_id)):
            asyncio.get_running_loop().create_task(self.hub.join(group))
        if html := realtime.in_language(html, self.language):
            self.outbox.put(html)

    def unfollow(self, room_id: int, html: realtime.Html) -> None:
        """The person may no longer be in a room (removed, or it became private): not another frame of it
        reaches this socket. A page showing it says so and stops being "here" in it; others drop it from
        their sidebar (both in `html`)."""
        self.revoked.add(room_id)
        if self.hub is not None:
            self.hub.unfollow(self, realtime.room_group(room_id))
        if self.room_id == room_id:
            if self.hub is not None:
                self.hub.unfollow(self, realtime.viewers_group(room_id))
            self.room_id = None
            left = [presence.room_key(room_id), presence.watching_key(room_id)]
            self.presence_keys = [k for k in self.presence_keys if k not in left]
            asyncio.get_running_loop().create_task(self._presence_left_room(room_id, left))
        if html := realtime.in_language(html, self.language):
            self.outbox.put(html)

    async def _presence_left_room(self, room_id: int, keys: list[str]) -> None:
        try:
            await presence.store.remove(keys, self.presence_member)
            presence.announce(room_id)
        except Exception:  # best effort, as all presence
            log.exception("presence: leaving room %s failed for user %s", room_id, self.user_id)

    def close_soon(self, code: int) -> None:
        """Close once, whoever asks first (a close event, a failed re-check, an overflow, an outage). Before
        the socket is accepted, connect() does it: a close before accept would be an HTTP 403."""
        if self.closing is not None:
            return
        self.closing = code
        self.outbox.shut()
        if self.outbox.ready:
            self.closer = asyncio.get_running_loop().create_task(self._close(code))

    async def _close(self, code: int) -> None:
        try:
            await self.close(code=code)
        except (RuntimeError, OSError):  # the client is already gone (uvicorn: ClientDisconnected)
            pass
        except Exception:
            # Daphne (autobahn) lets an application send only 1000 and 3000-4999, so "reconnect" (1012) and
            # "try again later" (1013) go out as 4012 and 4013, which the page treats the same (static/js/socket.js).
            if code not in realtime.DAPHNE_CODES:
                raise
            await self.close(code=realtime.DAPHNE_CODES[code])

    def _too_slow(self) -> None:
        log.warning("closing a socket of user %s: its outbox is full", self.user_id)
        self.close_soon(realtime.CLOSE_TRY_LATER)

    # ---- presence --------------------------------------------------------------------------------------

    async def _presence_arrive(self) -> None:
        try:
            await presence.store.touch(self.presence_keys, self.presence_member)
            if self.room_id is not None:
                presence.announce(self.room_id)
            if await presence.sockets_of(self.user_id) == 1:  # the first page: others see the dot come on
                await self._show_dot(online=True)
        except Exception:  # presence is best effort; chat works without it
            log.exception("presence: arrive failed for user %s", self.user_id)

    async def _presence_leave(self) -> None:
        try:
            await presence.store.remove(self.presence_keys, self.presence_member)
            if self.room_id is not None:
                presence.announce(self.room_id)
            if not await presence.online_users([self.user_id]):
                await self._show_dot(online=False)
        except Exception:  # presence is best effort; a closing socket must still close
            log.exception("presence: leave failed for user %s", self.user_id)

    async def _show_dot(self, *, online: bool) -> None:
        """Online dots: the people who share a direct conversation with this person see them come and go in
        their sidebar, on every page; the pages of this person's rooms, in the members panel (gathered per
        room, like who is here: a rush of arrivals makes one frame per room)."""
        partners, room_ids = await db(
            lambda: (services.dm_partner_ids(self.user_id), services.room_ids_of(self.user_id))
        )()
        frame = frames.online_dots({self.user_id: online})
        for partner in partners:
            await realtime.publish(realtime.user_group(partner), frame)
        for room_id in room_ids:
            presence.announce(room_id, member=self.user_id)

    # ---- frames from the page ----------------------------------------------------------------------------

    async def still_signed_in(self, *, strict: bool) -> bool:
        """scope["user"] was fixed at connect: check the account as it is now (session ended or expired,
        password changed, deactivated, rights changed), closing the socket if it is no longer theirs. At most
        every few seconds, except when `strict`: edit and delete, whose permission must be current, and the
        hub's periodic check of sockets that only listen. The signals close sockets at once anyway."""
        if not strict and time.monotonic() - self.authorized_at < AUTH_RECHECK:
            return True
        user = await db(current_user)(self.scope["session"].session_key)
        if user.pk != self.user_id:
            self.close_soon(realtime.CLOSE_SIGNED_OUT)
            return False
        self.user, self.authorized_at = user, time.monotonic()
        return True

    @contextlib.contextmanager
    def in_page_locale(self) -> Iterator[None]:
        """What this socket's answers say (refusals, acknowledgements, catch-ups) in its page's language and
        time zone; both follow into the database threads (they are context variables)."""
        with translation.override(self.language), timezone.override(self.zone or dt.UTC):
            yield

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.budget.take():
            return  # a flood of frames: dropped unread (a page's unanswered sends go again after a reconnect)
        with self.in_page_locale():
            await self._answer(text_data)

    async def _answer(self, text_data: str | None) -> None:
        data: dict = {}
        action, entry = "send", None  # the protocol entry, once the frame names a known action
        try:
            data = parse_frame(text_data)
            action = data.get("action", "send")
            if not isinstance(action, str) or action not in protocol.ACTIONS:
                raise services.ChatError(str(UNREADABLE))
            entry = protocol.ACTIONS[action]
            payload = {
                name: None if name in entry.optional and data.get(name) in (None, "") else field(data, name, kind)
                for name, kind in entry.payload.items()
            }
            payload["client_id"] = client_id_of(data)
            if action == "typing" and time.monotonic() - self.last_typing < TYPING_MIN_INTERVAL:
                return  # throttled before it costs anything
            if entry.bucket is not None:
                await limits.check(self.user_id, entry.bucket)  # flood control, before any database work
            if not await self.still_signed_in(strict=entry.fresh_auth):
                return
            reply = await entry.handler(self, payload)
        except limits.SlowDown as error:
            reply = self._slowed(action, entry, data, error)
        except services.ChatError as error:
            client_id = client_id_of(data)
            reply = frames.render_status(str(error), client_id)
            # A page resending what the server already stored (its acknowledgement was lost) and refused now
            # (muted, locked since): acknowledge it, or the person would send it again as new.
            resent = entry is not None and entry.retried and client_id
            if resent and await db(services.already_stored)(self.user, client_id):
                reply = frames.render_status(client_id=client_id, ok=True)
        if reply:
            self.outbox.put(reply)

    def _slowed(self, action: str, entry: protocol.Action, data: dict, error: limits.SlowDown) -> str:
        """Flood control said no: without a query. A typing notice or read mark is dropped quietly. A send
        stays pending on the page, which sends it again (same client id) once the wait is over: whether an
        earlier copy was stored then decides itself, so nothing is put back in the box to be sent twice."""
        if entry.quiet:
            return ""
        client_id = client_id_of(data)
        retry = max(1, error.wait_ms) if entry.retried and client_id else None
        return frames.render_status(slow_down(action, error.wait_ms), client_id, retry=retry)

    def _room(self) -> int:
        if self.room_id is None:
            raise services.ChatError(gettext("Open a room or a conversation to send messages."))
        return self.room_id

    async def on_send(self, data: dict) -> str:
        client_id = services.parse_client_id(data["client_id"])
        files = services.parse_file_ids(data["files"])
        await db(services.post_message)(self.user, self._room(), data["body"], client_id, data["reply_to"], files)
        self.last_typing = 0.0  # a sent message ends a typing burst, as on the page: the next one shows at once
        return frames.render_status(client_id=client_id, ok=True)

    async def on_edit(self, data: dict) -> str:
        await db(services.edit_message)(self.user, data["message_id"], data["body"])
        return ""

    async def on_delete(self, data: dict) -> str:
        await db(services.delete_message)(self.user, data["message_id"])
        return ""

    async def on_react(self, data: dict) -> str:
        await db(services.react)(self.user, data["message_id"], data["emoji"], bool(data["add"]))
        return ""

    async def on_typing(self, data: dict) -> str:
        if (room_id := self.room_id) is None:  # quiet: a page out of its room (removed) has nothing to say
            return ""
        self.last_typing = time.monotonic()
        # Someone who may not write here (muted, or the room is locked) is not shown typing either.
        if await db(access.send_refusal)(self.user, room_id) is not None:
            return ""
        frame = frames.typing_frame(self.user, room_id)
        try:
            await realtime.publish(realtime.viewers_group(room_id), frame, skip_user=self.user_id)
        except Exception:  # best effort: during a layer outage the page already says live updates are off
            log.warning("typing notice of user %s not sent: the channel layer is unavailable", self.user_id)
        return ""

    async def on_read(self, data: dict) -> str:
        seq = data["seq"]
        # A mark this socket already moved past changes nothing (no query); nor one from a room it is out of.
        if seq > self.read_upto and self.room_id is not None:
            self.read_upto = seq
            await db(services.mark_read)(self.user, self.room_id, seq)
        return ""

    async def on_visibility(self, data: dict) -> str:
        """The page went to the background or came back: while it is in front, its reader is not notified of
        its room's messages (rooms/notify/decide.py asks presence)."""
        if self.room_id is None:
            return ""
        key = presence.watching_key(self.room_id)
        keys = [k for k in self.presence_keys if k != key]
        self.presence_keys = [*keys, key] if data["visible"] else keys  # the hub's heartbeat refreshes these
        try:
            if data["visible"]:
                await presence.store.touch([key], self.presence_member)
            else:
                await presence.store.remove([key], self.presence_member)
        except Exception:  # best effort: at worst a notification too many, or one missed while in front
            log.warning("presence: visibility of user %s not recorded", self.user_id)
        return ""

    async def on_catch_up(self, data: dict) -> str:
        """Sent by the page on every (re)connect: what it missed in its room, and fresh unread counts. One at a
        time per socket, and none while its outbox is backed up: a client that keeps asking without reading
        the answers would otherwise make the server render and hold them all."""
        after = data["after"]
        if not self.outbox.delivered(self.catch_up_frame) or self.outbox.chars > CATCH_UP_BACKLOG:
            return ""
        self.catch_up_frame = self.outbox.put(await self._catch_up(after))
        return ""

    async def _catch_up(self, after: int) -> str:
        def gather() -> tuple[str, list[int]]:
            missed = services.catch_up_frame(self.user, self.room_id, after) if self.room_id is not None else ""
            return missed + services.unread_frame(self.user), services.dm_partner_ids(self.user_id)

        answer, partners = await db(gather)()
        # Dots too: a partner whose worker crashed went offline without anyone being told.
        try:
            online = await presence.online_users(partners)
        except Exception:  # presence is best effort; the catch-up itself must arrive
            log.exception("presence: dots lookup failed for user %s", self.user_id)
            return answer
        return answer + frames.dots_frame({p: p in online for p in partners})


Action = protocol.Action
protocol.register(
    "send",
    Action(
        ChatConsumer.on_send,
        {"body": str, "reply_to": int, "files": str},
        bucket="write",
        retried=True,
        optional=frozenset({"reply_to", "files"}),
    ),
)
protocol.register("edit", Action(ChatConsumer.on_edit, {"message_id": int, "body": str}, "write", fresh_auth=True))
protocol.register("delete", Action(ChatConsumer.on_delete, {"message_id": int}, "write", fresh_auth=True))
protocol.register("react", Action(ChatConsumer.on_react, {"message_id": int, "emoji": str, "add": int}, "react"))
protocol.register("typing", Action(ChatConsumer.on_typing, bucket="typing", quiet=True))
protocol.register("read", Action(ChatConsumer.on_read, {"seq": int}, bucket="read", quiet=True))
protocol.register("visibility", Action(ChatConsumer.on_visibility, {"visible": int}, bucket="read", quiet=True))
protocol.register("catch_up", Action(ChatConsumer.on_catch_up, {"after": int}, bucket="catch_up"))
