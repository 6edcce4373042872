"""Roomcast as production runs it, on this machine, for the reliability tests and the soak (bench/soak.py).

A Redis server of its own (so it can be restarted without disturbing anything else), uvicorn worker
processes with the README's production command on PostgreSQL, and page-like clients: each does over a real
socket what the page script (static/js/) does in the browser, so "nothing lost" is checked the way a page would see it.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[2]
RECONNECT_CODES = {1006, 1011, 1012, 1013, 4012, 4013}  # the page reconnects on these; other 4xxx are final
GAP_WAIT = 1.5  # seconds the page waits for a missing change before asking for it (static/js/timeline.js)
ACK_WAIT = 10.0  # seconds without an acknowledgement before the page replaces its connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


class RedisServer:
    """A redis-server on a free port that a test can stop and start again (a real restart: every connection
    drops, every subscription is gone)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, "redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Workers:
    """The README's production command: uvicorn with `count` worker processes sharing one port. Its
    supervisor starts a new worker when one dies."""

    def __init__(self, env: dict[str, str], count: int = 2, log: Path | None = None) -> None:
        self.port, self.count = free_port(), count
        out = log.open("ab") if log else subprocess.DEVNULL
        command = [
            *(sys.executable, "-m", "uvicorn", "chatsite.asgi:application", "--host", "127.0.0.1"),
            *("--port", str(self.port), "--workers", str(count), "--no-access-log"),
            *("--ws-per-message-deflate", "false", "--ws-max-size", "65536"),
        ]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for_port(self.port, self.proc, "uvicorn")
        self.wait_for_workers()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """Process ids of the workers (with one, uvicorn serves in its own process)."""
        if self.count == 1:
            return [self.proc.pid]
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def wait_for_workers(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.workers()) < self.count and time.monotonic() < deadline:
            time.sleep(0.1)

    def connections(self) -> dict[int, int]:
        """Open client connections per worker process id (from `ss`)."""
        out = subprocess.run(
            ["ss", "-Htnp", "state", "established", f"( sport = :{self.port} )"], capture_output=True, text=True
        ).stdout
        counts = dict.fromkeys(self.workers(), 0)
        for pid in re.findall(r"pid=(\d+)", out):
            if int(pid) in counts:
                counts[int(pid)] += 1
        return counts

    def kill_worker(self) -> int:
        """SIGKILL the busiest worker mid-conversation (no goodbye to its sockets); the supervisor replaces it."""
        counts = self.connections()
        victim = max(counts, key=lambda pid: (counts[pid], random.random()))
        os.kill(victim, signal.SIGKILL)
        return victim

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def server_env(
    database_url: str, redis_url: str, prefix: str, secret_key: str, flood_control: bool = True
) -> dict[str, str]:
    """The production setup (DEBUG off) on the given services. The secret key must be the one the sessions
    were made with: it signs them, and the hash that ties a session to its password."""
    keep = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return {
        **keep,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHANNEL_PREFIX": prefix,
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
        **({} if flood_control else {"SEND_RATE": "0", "CATCH_UP_RATE": "0", "FRAME_RATE": "0"}),
    }


# ---- a page, over a real socket ------------------------------------------------------------------------

ARTICLE = re.compile(r'<article id="msg-(\d+)" class="message( deleted)?"[^>]*?data-seq="(\d+)" data-changed="(\d+)"')
BODY = re.compile(r'<div class="body">(.*?)</div>', re.S)
TAG = re.compile(r"<[^>]+>")


def body_text(chunk: str) -> str:
    """A message's text as a reader sees it (its formatting's tags dropped), from its rendered article."""
    return html.unescape(TAG.sub("", BODY.search(chunk)[1]))


ACK = re.compile(r'data-client-id="([^"]+)" data-ok="([01])">([^<]*)<')
UPTO = re.compile(r'data-upto="(\d+)"')
OUTAGE = "Live updates are interrupted"


class Page:
    """One browser page on a room: the page script's logic for connecting, catching up, placing messages
    and resending, written again in Python so a test or the soak can run dozens of them."""

    def __init__(self, address: str, room_id: int, cookie: str, name: str = "") -> None:
        self.room_id = room_id
        self.url = f"ws://{address}/ws/rooms/{room_id}/"
        self.headers = {"Cookie": cookie, "Origin": f"http://{address}"}
        self.name = name
        self.messages: dict[int, tuple[int, int, str]] = {}  # id -> (seq, changed, body), as placed
        self.cursor = 0  # every change up to here has been seen
        self.ahead: set[int] = set()
        self.pending: dict[str, tuple[str, str]] = {}  # client id -> (frame, body), until acknowledged
        self.sent: list[str] = []  # bodies, one per send (each unique)
        self.refusals: list[str] = []
        self.resending = 0  # refused sends the person is about to send again
        self.frames: list[str] = []  # kept only when `keep_frames`
        self.keep_frames = False
        self.ws = None
        self.connected = asyncio.Event()  # the socket is open (its catch-up asked, maybe not answered)
        self.caught_up = asyncio.Event()  # a catch-up has been answered
        self.connects = 0
        self.closes: list[int | None] = []
        self.final_close: int | None = None
        self.outage_notices = 0
        self.gap_task: asyncio.Task | None = None

    # -- the connection ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        retry = 0
        while not stop.is_set():
            code = None
            try:
                async with websockets.connect(
                    self.url, additional_headers=self.headers, max_size=None, open_timeout=5, ping_interval=None
                ) as ws:
                    self.ws, retry = ws, 0
                    self.connects += 1
                    await ws.send(json.dumps({"action": "catch_up", "after": self.cursor}))
                    for frame, _ in list(self.pending.values()):
                        await ws.send(frame)
                    self.connected.set()
                    async for text in ws:
                        self.receive(text)
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                code = 1006
            else:
                code = ws.close_code
            self.ws = None
            self.connected.clear()
            self.closes.append(code)
            if code is not None and code not in RECONNECT_CODES and code >= 4000:
                self.final_close = code
                return
            retry += 1
            await asyncio.sleep(min(0.5 * 2 ** (retry - 1), 4) * (0.5 + random.random() / 2))

    def drop(self) -> None:
        """The network goes away under the page: no close frame, the server notices on its own."""
        if self.ws is not None:
            self.ws.transport.abort()

    async def _send(self, frame: str) -> None:
        ws = self.ws
        if ws is not None:
            try:
                await ws.send(frame)
            except websockets.ConnectionClosed:
                pass  # sent again on the next connect, as the page does

    # -- what the page sends --------------------------------------------------------------------------

    async def say(self, body: str, again: bool = False) -> str:
        """Send a message; `again`: the person sends a refused one once more (a new send, a new client id)."""
        client_id = str(uuid.uuid4())
        frame = json.dumps({"body": body, "client_id": client_id})
        self.pending[client_id] = (frame, body)
        if again:
            self.resending -= 1
        else:
            self.sent.append(body)
        await self._send(frame)
        return client_id

    async def typing(self) -> None:
        await self._send(json.dumps({"action": "typing"}))

    def catch_up_soon(self) -> None:
        async def later() -> None:
            await asyncio.sleep(GAP_WAIT)
            self.gap_task = None
            if self.ahead:
                await self._send(json.dumps({"action": "catch_up", "after": self.cursor}))

        if self.gap_task is None:
            self.gap_task = asyncio.get_running_loop().create_task(later())

    # -- what arrives ---------------------------------------------------------------------------------

    def receive(self, text: str) -> None:
        if self.keep_frames:
            self.frames.append(text)
        if OUTAGE in text:
            self.outage_notices += 1
        for client_id, ok, message in ACK.findall(text):
            sent = self.pending.pop(client_id, None)
            if ok == "0" and sent is not None:
                # Refused (too fast, say): the page puts the text back, and the person sends it again later.
                self.refusals.append(html.unescape(message))
                self.resending += 1
                resend = self.say(sent[1], again=True)
                asyncio.get_running_loop().call_later(2, asyncio.ensure_future, resend)
        # Only this room's messages: the socket also carries the person's other rooms, for sidebar badges.
        for frame in text.split('<div id="messages-')[1:]:
            if not frame.startswith(f'{self.room_id}"'):
                continue
            for chunk in frame.split("<article ")[1:]:
                self.place("<article " + chunk)
            if upto := UPTO.search(frame[: frame.find(">")]):  # a catch-up: complete up to there
                self.advance(0, int(upto[1]))
                self.caught_up.set()

    def place(self, chunk: str) -> None:
        match = ARTICLE.match(chunk)
        if not match:
            return
        pk, deleted, seq, changed = int(match[1]), bool(match[2]), int(match[3]), int(match[4])
        self.advance(changed)
        current = self.messages.get(pk)
        if current and current[1] >= changed:
            return  # came live and again in a catch-up: placed once
        if deleted:
            self.messages.pop(pk, None)
        else:
            self.messages[pk] = (seq, changed, body_text(chunk))

    def advance(self, changed: int, upto: int = 0) -> None:
        self.cursor = max(self.cursor, upto)
        self.ahead = {n for n in self.ahead if n > self.cursor}
        if changed > self.cursor:
            self.ahead.add(changed)
        while self.cursor + 1 in self.ahead:
            self.cursor += 1
            self.ahead.discard(self.cursor)
        if self.ahead:
            self.catch_up_soon()

    def bodies(self) -> list[str]:
        return [body for seq, _, body in sorted(self.messages.values())]


async def until(check, within: float = 10, step: float = 0.1) -> bool:
    """Whether `check()` came true within `within` seconds (polled: pages are plain objects)."""
    for _ in range(int(within / step) + 1):
        if check():
            return True
        await asyncio.sleep(step)
    return check()


async def settle(pages: list[Page], last_seq: int, within: float = 30) -> bool:
    """Wait until every page has no unacknowledged send and has seen every change up to `last_seq`. Nothing
    nudges them: a page that missed something without noticing stays behind, and the tally counts it lost."""
    return await until(lambda: not any(p.pending or p.resending or p.cursor < last_seq for p in pages), within, 0.2)


def tally(pages: list[Page], stored: list[tuple[int, int, str]]) -> dict[str, int]:
    """Every client against the database: `stored` is (id, seq, body) of every visible message.

    sent: sends made (each body unique); stored_twice: bodies saved more than once; unsaved: sends never
    saved; expected: stored messages times pages; delivered: stored messages a page shows; lost: stored
    messages a page lacks (a gap in its sequence); duplicated: a message a page shows more than once;
    unknown: a message a page shows that is not stored (or was deleted); unacknowledged: sends a page still
    shows as "sending…"; refused: refusals (e.g. "too fast") the person answered by sending again."""
    bodies = [body for _, _, body in stored]
    sent = [body for page in pages for body in page.sent]
    ids = {pk for pk, _, _ in stored}
    result = {
        "pages": len(pages),
        "sent": len(sent),
        "stored": len(stored),
        "stored_twice": len(bodies) - len(set(bodies)),
        "unsaved": len(set(sent) - set(bodies)),
        "expected": len(stored) * len(pages),
        "delivered": 0,
        "lost": 0,
        "duplicated": 0,
        "unknown": 0,
        "unacknowledged": sum(len(p.pending) for p in pages),
        "refused": sum(len(p.refusals) for p in pages),
        "reconnects": sum(max(p.connects - 1, 0) for p in pages),
    }
    for page in pages:
        shown = page.bodies()
        result["delivered"] += len(ids & page.messages.keys())
        result["lost"] += len(ids - page.messages.keys())
        result["duplicated"] += len(shown) - len(set(shown))
        result["unknown"] += len(page.messages.keys() - ids)
    return result
