"""A local stand-in for a browser vendor's Web Push service (RFC 8030) that checks what our server sends the
way a real one would: VAPID (RFC 8292), then the aes128gcm message encryption (RFC 8291), decrypted with the
subscriber's keys as the browser would. Every check that fails is answered 400 and kept in `failures`."""

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_BODY = 4096  # the message size every push service must accept (RFC 8030 §7.2); larger is refused with 413
URGENCIES = {"very-low", "low", "normal", "high"}  # RFC 8030 §5.3


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    # validate=True: a stray character is an error, not silently skipped as b64decode does by default
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def vapid_keys() -> tuple[str, str]:
    """A fresh VAPID key pair (private, public), both base64url without padding:
    - private: the PKCS#8 DER encoding of the P-256 key, what pywebpush's `vapid_private_key` takes as a string
      (py_vapid's Vapid.from_string reads a 32-byte raw scalar or DER; a PEM is taken only as a file path);
    - public: the uncompressed point 0x04||X||Y (65 bytes), the applicationServerKey a browser's
      pushManager.subscribe() wants, and the `k` pywebpush puts in the Authorization header."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return b64url(der), b64url(public_point(key))


@dataclass(frozen=True)
class Subscriber:
    """A browser's push subscription: an ECDH P-256 key pair and a 16-byte auth secret (RFC 8291 §2)."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False)

    @property
    def p256dh(self) -> str:
        return b64url(public_point(self.private_key))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def as_subscription_info(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives (less expirationTime), the form pywebpush takes."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class Delivery:
    subscriber: Subscriber
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]  # the VAPID JWT's claims, signature verified
    vapid_key: str  # `k` of the Authorization header: the sender's applicationServerKey
    payload: Any  # the decrypted message, parsed if it is JSON, else the bytes
    headers: dict[str, str]  # every request header as sent, for a test to look at


@dataclass(frozen=True)
class Refusal:
    endpoint: str
    status: int


class Rejected(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def verify_vapid(authorization: str, origin: str) -> tuple[dict[str, Any], str]:
    """The claims and `k` of an RFC 8292 `vapid t=<JWT>, k=<key>` header, or Rejected."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise Rejected(f"Authorization scheme {scheme!r}, not RFC 8292's 'vapid'")
    fields = dict(part.strip().partition("=")[::2] for part in params.split(","))
    token, k = fields.get("t", ""), fields.get("k", "")
    try:
        signed, _, signature = token.rpartition(".")
        header, claims = (json.loads(unb64url(part)) for part in signed.split("."))
        raw, point = unb64url(signature), unb64url(k)
    except (ValueError, binascii.Error) as e:
        raise Rejected(f"malformed VAPID t or k: {e}") from None
    if header.get("alg") != "ES256" or header.get("typ") != "JWT":
        raise Rejected(f"JWT header {header}, not ES256 JWT")
    if len(raw) != 64 or len(point) != 65 or point[0] != 4:
        raise Rejected(f"signature of {len(raw)} bytes or key of {len(point)} bytes (want 64, 65 uncompressed)")
    der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        key.verify(der, signed.encode(), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        raise Rejected("VAPID signature does not verify with k") from None
    now, exp, sub = time.time(), claims.get("exp"), str(claims.get("sub", ""))
    if claims.get("aud") != origin:
        raise Rejected(f"aud {claims.get('aud')!r}, not the endpoint's origin {origin!r}")
    if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
        raise Rejected(f"exp {exp!r} not in the next 24 hours (now {int(now)})")
    if not sub.startswith(("mailto:", "https:")):
        raise Rejected(f"sub {sub!r} is neither a mailto: nor an https: URL")
    return claims, k


def decrypt(body: bytes, subscriber: Subscriber) -> bytes:
    """RFC 8291: one aes128gcm record whose keyid is the sender's ephemeral uncompressed point."""
    if len(body) < 21 or body[20] != 65 or body[21:22] != b"\x04":
        raise Rejected("aes128gcm header's keyid is not a 65-byte uncompressed P-256 point")
    if len(body) - 86 > int.from_bytes(body[16:20]):  # RFC 8291 §4: a single record, so rs covers it all
        raise Rejected("more than one aes128gcm record")
    try:
        return http_ece.decrypt(
            body, private_key=subscriber.private_key, auth_secret=subscriber.auth_secret, version="aes128gcm"
        )
    except Exception as e:  # http_ece raises ECEException or cryptography's InvalidTag, both mean "not for us"
        raise Rejected(f"does not decrypt with the subscriber's keys: {e!r}") from None


class PushService:
    """The push service on 127.0.0.1 (a free port), serving from a daemon thread between start() and stop()."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._subscribers: dict[str, Subscriber] = {}
        self._answers: dict[str, int] = {}
        self._deliveries: list[Delivery] = []
        self._failures: list[str] = []
        self._refused: list[Refusal] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.service = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        # a short poll: shutdown() waits up to one poll_interval (0.5s by default) for the loop to notice
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever, forever if it never ran
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def subscriber(self) -> Subscriber:
        subscriber = Subscriber(f"{self.origin}/push/{secrets.token_urlsafe(16)}")
        with self._lock:
            self._subscribers[subscriber.endpoint] = subscriber
        return subscriber

    def answer(self, subscriber: Subscriber, status: int) -> None:
        with self._lock:
            self._answers[subscriber.endpoint] = status

    # copies, taken under the lock: the server's threads append while a test reads
    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def failures(self) -> list[str]:  # "<endpoint>: <the check that failed>"
        with self._lock:
            return list(self._failures)

    @property
    def refused(self) -> list[Refusal]:  # unknown endpoints (404) and those answer() set
        with self._lock:
            return list(self._refused)

    def wait_for(self, count: int, timeout: float = 10) -> list[Delivery]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._deliveries) >= count, timeout):
                raise AssertionError(
                    f"{len(self._deliveries)} of {count} deliveries in {timeout}s: {self._deliveries}; "
                    f"failures {self._failures}; refused {self._refused}"
                )
            return list(self._deliveries)

    def receive(self, endpoint: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """Checks and records one POST: the status to answer and, if a check failed, why."""
        with self._lock:
            subscriber, status = self._subscribers.get(endpoint), self._answers.get(endpoint, 201)
            if subscriber is None or status != 201:
                self._refused.append(Refusal(endpoint, 404 if subscriber is None else status))
                return self._refused[-1].status, ""
        try:
            delivery = self._check(subscriber, headers, body)
        except Exception as e:  # a check that trips over malformed input has failed too: never just logged
            reason = str(e) if isinstance(e, Rejected) else f"malformed request: {e!r}"
            with self._lock:
                self._failures.append(f"{endpoint}: {reason}")
            return getattr(e, "status", 400), reason
        with self._lock:
            self._deliveries.append(delivery)
            self._lock.notify_all()
        return 201, ""

    def _check(self, subscriber: Subscriber, headers: dict[str, str], body: bytes) -> Delivery:
        if not re.fullmatch(r"[0-9]+", headers.get("ttl", "")):  # RFC 8030 §5.2: required, delta-seconds
            raise Rejected(f"TTL header {headers.get('ttl')!r}, not a non-negative integer")
        if headers.get("content-encoding") != "aes128gcm":
            raise Rejected(f"Content-Encoding {headers.get('content-encoding')!r}, not aes128gcm")
        urgency, topic = headers.get("urgency"), headers.get("topic")
        if urgency is not None and urgency not in URGENCIES:
            raise Rejected(f"Urgency {urgency!r} is not one of {sorted(URGENCIES)}")
        if topic is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", topic):  # RFC 8030 §5.4
            raise Rejected(f"Topic {topic!r} is not 1 to 32 base64url characters")
        if len(body) > MAX_BODY:
            raise Rejected(f"body of {len(body)} bytes, more than {MAX_BODY}", 413)
        claims, k = verify_vapid(headers.get("authorization", ""), self.origin)
        plaintext = decrypt(body, subscriber)
        try:
            payload: Any = json.loads(plaintext)
        except ValueError:  # UnicodeDecodeError included: a binary message stays bytes
            payload = plaintext
        return Delivery(subscriber, int(headers["ttl"]), urgency, topic, claims, k, payload, headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as pywebpush's requests session would use with a real service

    def do_POST(self) -> None:
        service = cast(PushService, self.server.service)  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, reason = service.receive(service.origin + self.path, headers, body)
        self.send_response(status)
        self.send_header("Content-Length", str(len(reason.encode())))
        self.end_headers()
        self.wfile.write(reason.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test's own output is what matters; what was refused is in the service's lists


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service
