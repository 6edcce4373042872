"""Web Push: what the task worker sends to the devices of people with no page open, through each browser's
push service, with no vendor account: VAPID keys (`manage.py vapid_keys`, read from the environment) sign
every request (RFC 8292), and pywebpush encrypts the payload for the device (RFC 8291). A subscription the
service says is gone (404, 410) is deleted; every other answer is kept on the subscription, for its owner's
settings page."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db.models import Q
from django.tasks import task
from django.utils import timezone, translation
from py_vapid import Vapid02, VapidException
from pywebpush import WebPusher, WebPushException

from ..models import PushSubscription, Room
from . import content
from .decide import Alert

log = logging.getLogger(__name__)

TTL = 12 * 3600  # seconds a push service keeps a notification for a device that is off
TIMEOUT = 10.0  # seconds for one push service's answer
SENDERS = 8  # pushes in flight at once: a slow push service holds up one sender, not the others
GONE = (404, 410)
_sessions = threading.local()  # one HTTP session (kept-alive connections) per sending thread


@functools.cache
def _senders() -> ThreadPoolExecutor:
    """The worker's sending threads, kept from pass to pass with their HTTP sessions: a push service's
    connection (its TLS handshake) is made once, not on every pass."""
    return ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="roomcast-push")


def configured() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


@functools.lru_cache(maxsize=64)
def _vapid_headers(private_key: str, subject: str, audience: str, hour: int) -> dict[str, str]:
    """The signed VAPID header for one push service (`audience`), made once an hour and valid for 11 to 12 more
    (at most 24 h, RFC 8292): signing one per push cost the worker more CPU than encrypting it."""
    claims = {"sub": subject, "aud": audience, "exp": (hour + 12) * 3600}
    return Vapid02.from_string(private_key).sign(claims)


def accepted_endpoint(endpoint: str) -> bool:
    """Only a push service's address (PUSH_SERVICES): the server posts to it, so it must not be one a person
    chose to make the server reach (an address inside the network, say)."""
    try:
        url = urlsplit(endpoint)
        port = url.port
    except ValueError:
        return False
    for service in settings.PUSH_SERVICES:
        allowed = urlsplit(service)
        host = url.hostname or ""
        if (
            url.scheme == allowed.scheme
            and port == allowed.port
            and (host == allowed.hostname or host.endswith(f".{allowed.hostname}"))
        ):
            return True
    return False


def send_alerts(room: Room, by_person: dict[int, list[Alert]], quiet: set[int]) -> None:
    """Each person's notification for the room to each of their devices. `quiet`: without sound."""
    if not by_person or not configured():
        return
    subscriptions = list(PushSubscription.objects.filter(user_id__in=by_person))
    urgent = {u for u, mine in by_person.items() if any(a.reason.urgent for a in mine)}
    notices: dict[tuple, dict] = {}  # one per way of being alerted and language, not per device

    def payload(subscription: PushSubscription) -> dict:
        mine, silent = by_person[subscription.user_id], subscription.user_id in quiet
        key = (tuple((a.message.pk, a.reason) for a in mine), silent, translation.get_language())
        if key not in notices:
            notices[key] = content.notice(room, mine, silent=silent)
        return notices[key]

    _send(subscriptions, payload, urgent=urgent)


@task()
def send_test(user_id: int) -> None:
    """The settings page's "send me a test notification": to each of the person's devices."""
    if configured():
        _send(list(PushSubscription.objects.filter(user_id=user_id)), lambda s: content.test_notice(), set())


def _send(subscriptions: list[PushSubscription], payload: Callable[[PushSubscription], dict], urgent: set[int]) -> None:
    # No Topic header: a push service would replace an undelivered push with the next, and the device, back
    # online, would count only the last burst. Each arrives, and the service worker adds them up.
    subscriptions = [s for s in subscriptions if accepted_endpoint(s.endpoint)]  # PUSH_SERVICES may have changed
    bodies = {}
    for subscription in subscriptions:
        with translation.override(subscription.language):
            bodies[subscription.pk] = json.dumps(payload(subscription), ensure_ascii=False)

    def one(subscription: PushSubscription) -> tuple[int | None, str]:
        urgency = "high" if subscription.user_id in urgent else "normal"
        return _push(subscription, bodies[subscription.pk], {"Urgency": urgency})

    _record(subscriptions, list(_senders().map(one, subscriptions)))


def _push(subscription: PushSubscription, body: str, headers: dict) -> tuple[int | None, str]:
    """The push service's answer: its HTTP status (None: none came) and, if it refused, why."""
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    if not hasattr(_sessions, "session"):
        _sessions.session = requests.Session()
        _sessions.session.max_redirects = 0  # a push service answers; it never sends the server elsewhere
    url = urlsplit(subscription.endpoint)
    try:
        vapid = _vapid_headers(
            settings.VAPID_PRIVATE_KEY, settings.VAPID_SUBJECT, f"{url.scheme}://{url.netloc}", int(time.time() // 3600)
        )
        pusher = WebPusher(info, requests_session=_sessions.session)  # encrypts for the device (RFC 8291)
        response = pusher.send(body, {**headers, **vapid}, ttl=TTL, timeout=TIMEOUT)
    except (WebPushException, requests.RequestException, ValueError, VapidException) as error:
        return None, str(error)[:200]  # unreachable, or keys (the device's, ours) that cannot be used
    if response.status_code > 202:
        return response.status_code, f"{response.status_code} {response.reason}"[:200]
    return response.status_code, ""


def _record(subscriptions: list[PushSubscription], results: list[tuple[int | None, str]]) -> None:
    """One UPDATE per kind of answer (almost always one: 201), not one per device, nor a CASE per device."""
    by_answer: dict[tuple[int | None, str], list[int]] = defaultdict(list)
    for subscription, answer in zip(subscriptions, results, strict=True):
        by_answer[answer].append(subscription.pk)
    now = timezone.now()
    for (status, error), ids in by_answer.items():
        devices = PushSubscription.objects.filter(pk__in=ids)
        if status in GONE:
            devices.delete()
            log.info("web push: %d expired subscriptions removed", len(ids))
        else:
            devices.update(last_sent_at=now, last_status=status, last_error=error)


def save_subscription(
    user, endpoint: str, p256dh: str, auth: str, device: str, language: str, session_key: str
) -> PushSubscription:
    """A device's subscription, as its browser gave it: a device that subscribes again (new keys), or whose
    browser now belongs to someone else, keeps one row."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "user": user, "p256dh": p256dh, "auth": auth, "device": device, "language": language,
            "session_key": session_key, "last_sent_at": None, "last_status": None, "last_error": "",
        },
    )  # fmt: skip
    return subscription


def forget_session_devices(sender, request, user, **kwargs) -> None:
    """Logging out takes off the devices subscribed in that login (connected to user_logged_out)."""
    if user is not None and (key := getattr(request.session, "session_key", None)):
        PushSubscription.objects.filter(user=user, session_key=key).delete()


def remove_subscription(user, subscription_id: int | None = None, endpoint: str | None = None) -> int:
    """Forget one of the person's devices (by its row, or by the endpoint its browser knows)."""
    which = Q(pk=subscription_id) if subscription_id is not None else Q(endpoint=endpoint)
    return PushSubscription.objects.filter(which, user=user).delete()[0]
