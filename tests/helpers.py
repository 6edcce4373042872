"""Shared test helpers: people, signed-in sockets, and reading frames the way a browser would."""

from __future__ import annotations

import asyncio
import json
import uuid

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from django_tasks_db.management.commands.db_worker import Worker

from chatsite.asgi import application

from .support.production import ARTICLE, body_text  # a page's reading of message frames, shared with the soak's

ORIGIN = (b"origin", b"http://127.0.0.1")
User = get_user_model()


def make_user(username: str, **extra) -> User:
    return User.objects.create_user(username, f"{username}@example.com", "correct-horse-battery", **extra)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def open_socket(user=None, path: str = "/ws/", origin: tuple[bytes, bytes] | None = ORIGIN):
    """Connect like the browser page does; returns (communicator, connected)."""
    headers = [origin] if origin else []
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect()
    return comm, connected


async def open_socket_with_cookie(comm: WebsocketCommunicator, path: str | None = None):
    """Another socket presenting the same session cookie as `comm` (a page reconnecting)."""
    again = WebsocketCommunicator(application, path or comm.scope["path"], headers=comm.scope["headers"])
    connected, _ = await again.connect()
    return again, connected


def send_frame(body: str, client_id: str | None = None) -> str:
    """The JSON frame the ws extension sends for the composer form."""
    return json.dumps({"body": body, "client_id": client_id or str(uuid.uuid4()), "HEADERS": {"HX-Request": "true"}})


async def frames_until(comm: WebsocketCommunicator, needle: str, timeout: float = 3) -> list[str]:
    """Read frames until one contains `needle`; fails the test if it never comes, or if the socket is closed
    on the way."""
    seen: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            output = await comm.receive_output(timeout=timeout)
            assert output["type"] == "websocket.send", f"the socket was closed ({output.get('code')}) before {needle!r}"
            seen.append(output["text"])
            if needle in output["text"]:
                return seen


async def closed_with(comm: WebsocketCommunicator, timeout: float = 3) -> int:
    """The close code the server sent (skipping any frames before it)."""
    async with asyncio.timeout(timeout):
        while True:
            output = await comm.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)


class PageModel:
    """What a room page holds, applying frames the way the page script (static/js/timeline.js) does: by id,
    newest state wins, tombstones remove, order by seq. Used to check that catch-up ends with exactly the right
    messages."""

    def __init__(self) -> None:
        self.messages: dict[int, tuple[int, int, str]] = {}  # id -> (seq, changed, body)
        self.cursor = 0
        self.duplicates = 0

    def apply(self, frame: str) -> None:
        for chunk in frame.split("<article ")[1:]:
            chunk = "<article " + chunk
            match = ARTICLE.match(chunk)
            if not match:
                continue
            pk, deleted, seq, changed = int(match[1]), bool(match[2]), int(match[3]), int(match[4])
            self.cursor = max(self.cursor, changed)
            current = self.messages.get(pk)
            if current and current[1] >= changed:
                self.duplicates += 1
                continue
            if deleted:
                self.messages.pop(pk, None)
            else:
                self.messages[pk] = (seq, changed, body_text(chunk))

    def bodies(self) -> list[str]:
        return [body for _, (seq, _, body) in sorted(self.messages.items(), key=lambda kv: kv[1][0])]


async def stays_open(comm: WebsocketCommunicator, quiet: float = 0.3) -> bool:
    """Whether the socket is still open once it has been quiet for `quiet` seconds: every output read, and none
    of them a close (reading text frames alone could never tell)."""
    outputs = []
    while not await comm.receive_nothing(timeout=quiet):
        outputs.append(await comm.receive_output())
    return all(output["type"] != "websocket.close" for output in outputs)


async def drain(comm: WebsocketCommunicator, quiet: float = 0.3) -> list[str]:
    """Every frame that arrives until the socket has been quiet for `quiet` seconds."""
    frames = []
    while not await comm.receive_nothing(timeout=quiet):
        frames.append(await comm.receive_from())
    return frames


async def never_sees(comm: WebsocketCommunicator, needle: str, quiet: float = 0.6) -> bool:
    """True if nothing containing `needle` arrives (other frames, e.g. presence, may)."""
    return not any(needle in frame for frame in await drain(comm, quiet))


def run_queued_tasks() -> None:
    """What `manage.py db_worker` does, here and now: every task due in the queue, in this thread."""
    Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=None, worker_id="tests", excluded_queue_names=[],
    ).run()  # fmt: skip
