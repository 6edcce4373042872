"""Real server processes for tests: the embedded default under daphne or uvicorn, signed in through its form,
and raw sockets that stop reading."""

import base64
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the project, where manage.py is


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(tmp_path, command: list[str]) -> Iterator[str]:
    """The embedded default (no DATABASE_URL, no REDIS_URL) with the demo data, served by `command` + port;
    yields its host:port."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*command, str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail(f"the server did not start: {server.stdout.read().decode()}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def embedded_server(tmp_path):
    with serving(
        tmp_path, [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "chatsite.asgi:application", "-p"]
    ) as at:
        yield at


@pytest.fixture
def uvicorn_server(tmp_path, monkeypatch):
    """The production server (README), on the embedded setup."""
    monkeypatch.setenv("SEND_RATE", "0")  # its stalled-client test sends 1000 messages as fast as it can
    monkeypatch.setenv("FRAME_RATE", "0")
    # Catch-ups that wait their turn would hold a stalled client's socket (and the server's shutdown) open
    # long after the test is done with it; tests/test_abuse.py's stalled client asks for many.
    monkeypatch.setenv("CATCH_UP_RATE", "0")
    with serving(
        tmp_path, [sys.executable, "-m", "uvicorn", "chatsite.asgi:application", "--no-access-log", "--port"]
    ) as at:
        yield at


def sign_in(base: str, username: str) -> str:
    """Log in through the form as a demo user; the Cookie header a browser would then send."""
    jar = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_page = browser.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": username, "password": "roomcast-demo"})
    browser.open(urllib.request.Request(f"{base}/accounts/login/", data=form.encode(), headers={"Referer": base}))
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def stalled_socket(address: str, path: str, cookies: str) -> socket.socket:
    """A websocket whose client never reads: a tiny receive buffer, the handshake done by hand, then nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = address.split(":")
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{address}\r\n"
        f"Cookie: {cookies}\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def read_frames(sock: socket.socket) -> tuple[list[str], int | None]:
    """Everything the server sent until it closed: the text frames, and the close code."""
    sock.settimeout(10)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    texts, code, at = [], None, 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length >= 126:
            size = 2 if length == 126 else 8
            length, at = int.from_bytes(data[at : at + size]), at + size
        payload, at = data[at : at + length], at + length
        if opcode == 1:
            texts.append(payload.decode())
        elif opcode == 8:
            code = int.from_bytes(payload[:2])
    return texts, code
