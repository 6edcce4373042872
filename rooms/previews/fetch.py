"""Fetching a linked page or picture for a link preview, guarded against server-side request forgery.

A message's link may name any host, and the worker fetching it sits inside the deployment: it must never reach
what only the server can (its own loopback, the private network, a cloud's metadata service at
169.254.169.254). So each hop of a fetch (the link, then every redirect, at most 3) is resolved once with
getaddrinfo, every address it resolves to must be public (not private, loopback, link-local, multicast,
reserved or unspecified, an IPv4 address inside IPv6 included) or the hop is refused before any connection,
and the connection goes to that checked address itself, never through a second lookup (which a DNS rebinding
could answer differently), with the host's name in Host and, over TLS, in SNI and the certificate check.
Time (LINK_PREVIEW_TIMEOUT for a whole fetch, redirects included), size and content type are capped too.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimeout
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings
from django.utils.http import parse_header_parameters

MAX_REDIRECTS = 3
REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "Roomcast-LinkPreview/1.0"
CHUNK = 64 * 1024
# What may stay as it is in a request's path and query (anything else is percent-encoded): a Location header
# can carry raw non-ASCII, which an HTTP request line cannot.
_URL_SAFE = "/?&=%:@!$'()*+,;-._~"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# getaddrinfo has no timeout of its own: it runs here, and the fetch stops waiting for it at its deadline.
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="preview-dns")


class Refused(Exception):
    """Why a link gets no preview (for the log): its address, scheme, type, size, status, time, or the network."""


class Blocked(Refused):
    """The host is, or resolves to, an address this server must not contact."""


@dataclass(frozen=True)
class Response:
    url: str  # where the body came from, after redirects
    content_type: str  # the media type, lower case, without its parameters
    charset: str | None
    body: bytes


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (an international name in its IDNA form), an IPv6 literal without brackets
    port: int
    path: str  # with the query

    @classmethod
    def of(cls, url: str) -> _Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise Refused(f"not a URL: {error}") from None
        if parts.scheme not in {"http", "https"}:
            raise Refused(f"{parts.scheme or 'no'} scheme")
        if parts.username is not None or parts.password is not None:
            raise Refused("credentials in the URL")
        try:
            host = (parts.hostname or "").encode("idna").decode("ascii")
        except UnicodeError:
            raise Refused("not a host name") from None
        if not host:
            raise Refused("no host")
        path = quote(parts.path or "/", safe=_URL_SAFE)
        if parts.query:
            path += "?" + quote(parts.query, safe=_URL_SAFE)
        return cls(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"


def allowed(address: Address) -> bool:
    """Whether a fetch may connect to this address: a public one, or one in LINK_PREVIEW_ALLOWED_NETWORKS."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    public = address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
    return public or any(address in ipaddress.ip_network(net) for net in settings.LINK_PREVIEW_ALLOWED_NETWORKS)


def fetch(url: str, *, types: Collection[str], max_bytes: int, cut: bool = False) -> Response:
    """GET `url`, following at most MAX_REDIRECTS redirects, each hop checked; its body if its type is one of
    `types` and it is at most `max_bytes` long (with `cut`, the first `max_bytes` of a longer one). Raises
    Refused (Blocked for an address) for anything else, network errors included."""
    deadline = time.monotonic() + settings.LINK_PREVIEW_TIMEOUT
    for _hop in range(MAX_REDIRECTS + 1):
        target = _Target.of(url)
        sock = _connect(target, deadline)
        # Each read waits at most until the deadline, but a server trickling its headers a byte at a time
        # would restart that wait with every byte: at the deadline the socket is shut, whatever it is doing.
        watchdog = threading.Timer(max(deadline - time.monotonic(), 0), _shut, [sock])
        watchdog.start()
        try:
            response = _get(sock, target, types)
            if response.status in REDIRECTS:
                location = response.getheader("Location", "").strip()
                if not location:
                    raise Refused(f"HTTP {response.status} without a Location")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise Refused(f"HTTP {response.status}")
            return _body(url, response, types, max_bytes, cut, deadline)
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() >= deadline:
                raise Refused(f"took longer than {settings.LINK_PREVIEW_TIMEOUT} s") from None
            raise Refused(f"{type(error).__name__}: {error}") from None
        finally:
            watchdog.cancel()
            sock.close()
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Refused(f"took longer than {settings.LINK_PREVIEW_TIMEOUT} s")
    return left


def _connect(target: _Target, deadline: float) -> socket.socket:
    """A connection to one of the host's addresses, every one of them checked first."""
    try:
        infos = _lookups.submit(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM).result(
            timeout=_remaining(deadline)
        )
    except LookupTimeout:
        raise Refused(f"looking up {target.host} took too long") from None
    except OSError as error:
        raise Refused(f"cannot look up {target.host}: {error}") from None
    addresses = [(info, ipaddress.ip_address(info[4][0])) for info in infos]
    # All or nothing: a name that also resolves to an internal address is refused, whatever else it resolves to.
    if blocked := sorted({str(address) for _, address in addresses if not allowed(address)}):
        raise Blocked(f"{target.host} is {', '.join(blocked)}")
    error: OSError | None = None
    for (family, kind, proto, _, sockaddr), _address in addresses:
        try:
            return _open(family, kind, proto, sockaddr, target, deadline)
        except OSError as failed:
            error = failed
    raise Refused(f"cannot connect to {target.host}: {error}")


def _open(family: int, kind: int, proto: int, sockaddr: tuple, target: _Target, deadline: float) -> socket.socket:
    """Connect to the checked address `sockaddr` (and over TLS, check the certificate against the host name)."""
    sock = socket.socket(family, kind, proto)
    try:
        sock.settimeout(_remaining(deadline))
        sock.connect(sockaddr)
        if target.scheme == "https":
            return _tls().wrap_socket(sock, server_hostname=target.host)
        return sock
    except BaseException:
        sock.close()
        raise


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _get(sock: socket.socket, target: _Target, types: Collection[str]) -> http.client.HTTPResponse:
    """One GET on the connected socket. http.client sends no Accept-Encoding but "identity": a compressed body
    (which could unpack to far more than the cap) is never asked for."""
    connection = http.client.HTTPConnection(target.host, target.port)
    connection.sock = sock  # already connected, to the checked address: http.client never connects itself
    connection.putrequest("GET", target.path, skip_host=True)
    connection.putheader("Host", target.host_header)
    connection.putheader("User-Agent", USER_AGENT)
    connection.putheader("Accept", ", ".join(sorted(types)))
    connection.putheader("Connection", "close")
    connection.endheaders()
    return connection.getresponse()


def _body(
    url: str, response: http.client.HTTPResponse, types: Collection[str], max_bytes: int, cut: bool, deadline: float
) -> Response:
    media_type, params = parse_header_parameters(response.getheader("Content-Type", ""))
    if media_type not in types:
        raise Refused(f"{media_type or 'no content type'}, not {' or '.join(sorted(types))}")
    if response.getheader("Content-Encoding", "identity").strip().lower() != "identity":
        raise Refused("a compressed body")
    length = response.getheader("Content-Length", "")
    if not cut and length.isdigit() and int(length) > max_bytes:
        raise Refused(f"{length} bytes, more than {max_bytes}")
    chunks, size = [], 0
    while size <= max_bytes:
        chunk = response.read1(CHUNK)  # at most one read from the socket: the deadline is checked between reads
        _remaining(deadline)  # the watchdog's shutdown also ends the body early: it is not taken as complete
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes and not cut:
        raise Refused(f"more than {max_bytes} bytes")
    return Response(url, media_type, params.get("charset"), b"".join(chunks)[:max_bytes])
