"""A website on loopback that messages link to: the pages and pictures a test puts on it, and every request it
was sent (path and Host), so a test can tell what the link preview fetcher asked for, and that it asked nothing
else. Reachable only where the test widens LINK_PREVIEW_ALLOWED_NETWORKS to LOOPBACK."""

from __future__ import annotations

import html
import io
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

LOOPBACK = ["127.0.0.1/32"]


@dataclass
class Resource:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stall: bool = False  # send the status line and headers, then nothing until the site closes
    trickle: float = 0  # send the response a byte at a time, this many seconds apart


class LinkedSite:
    """`tls`: serve HTTPS with this context (its certificate names the site), else HTTP."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.resources: dict[str, Resource] = {}
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.closing = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def serve(
        self, path: str, body: bytes, content_type: str, length: bool = True, headers: dict | None = None, **resource
    ) -> str:
        headers = (
            {"Content-Type": content_type} | ({"Content-Length": str(len(body))} if length else {}) | (headers or {})
        )
        self.resources[path] = Resource(headers=headers, body=body, **resource)
        return self.url(path)

    def page(self, path: str, **fields: str) -> str:
        return self.serve(path, page(**fields).encode(), "text/html; charset=utf-8")

    def story(self) -> str:
        """A news story with every card field and a picture; its address."""
        self.serve("/pic.png", picture(400, 300), "image/png")
        return self.page(
            "/story", title="Roomcast ships", description="Link cards, live.", site_name="The News", image="/pic.png"
        )

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.resources[path] = Resource(status=status, headers={"Location": location, "Content-Length": "0"})
        return self.url(path)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(site: LinkedSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((self.path, self.headers.get("Host", "")))
            resource = site.resources.get(self.path, Resource(status=404))
            if resource.trickle:
                self.wfile = _Trickling(self.wfile, resource.trickle, site.closing)
            self.send_response(resource.status)
            for name, value in resource.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if resource.stall:
                site.closing.wait(30)
                return
            self.wfile.write(resource.body)

        def log_message(self, *args) -> None:
            pass  # quiet

    return Handler


class _Trickling(io.RawIOBase):
    def __init__(self, out, pause: float, closing: threading.Event) -> None:
        self.out, self.pause, self.closing = out, pause, closing

    def write(self, data) -> int:
        for byte in bytes(data):
            if self.closing.wait(self.pause):
                break
            self.out.write(bytes([byte]))
            self.out.flush()
        return len(data)


def page(title: str = "", description: str = "", site_name: str = "", image: str = "", head: str = "") -> str:
    """An HTML page with these OpenGraph tags (each left out when empty) and more of `head` as it is."""
    tags = {"og:title": title, "og:description": description, "og:site_name": site_name, "og:image": image}
    meta = "".join(f'<meta property="{name}" content="{html.escape(value)}">' for name, value in tags.items() if value)
    return f"<!doctype html><html><head><meta charset='utf-8'>{meta}{head}</head><body><p>Hello</p></body></html>"


def picture(width: int = 400, height: int = 300, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (47, 79, 208)).save(out, kind)
    return out.getvalue()


@pytest.fixture
def linked_site() -> Iterator[LinkedSite]:
    site = LinkedSite()
    yield site
    site.close()
