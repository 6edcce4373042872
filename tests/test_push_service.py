"""The stand-in push service accepts what pywebpush sends as a real vendor would, and refuses what a real
vendor or browser would: without that second half, a benchmark passing against it would prove nothing."""

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from py_vapid import Vapid01, Vapid02
from pywebpush import WebPushException, webpush

from .support.push_service import PushService, Refusal, b64url, push_service, vapid_keys  # noqa: F401 (fixture)

PRIVATE, PUBLIC = vapid_keys()
LAX = Vapid02.from_string(PRIVATE)
LAX.conf = {"no-strict": True}


def send(info: dict[str, Any], message: object, key: str | Vapid01 = PRIVATE, **claims: Any) -> None:
    # A fresh claims dict per send: webpush() writes aud and exp into the one it is given
    webpush(
        info,
        data=json.dumps(message),
        vapid_private_key=key,
        vapid_claims={"sub": "mailto:admin@example.com", **claims},
        content_encoding="aes128gcm",
        ttl=60,
        headers={"Urgency": "high", "Topic": "room-7"},
    )


def test_a_delivery_decrypts_to_the_payload_signed_with_our_key(push_service: PushService) -> None:
    subscriber = push_service.subscriber()
    send(subscriber.as_subscription_info(), {"title": "Alice", "body": "héllo"})

    [delivery] = push_service.wait_for(1)
    assert push_service.failures == []
    assert delivery.subscriber == subscriber
    assert delivery.payload == {"title": "Alice", "body": "héllo"}
    assert delivery.vapid_key == PUBLIC
    assert delivery.claims["aud"] == push_service.origin
    assert delivery.claims["sub"] == "mailto:admin@example.com"
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (60, "high", "room-7")


def test_a_gone_subscription_answers_410_and_is_recorded(push_service: PushService) -> None:
    subscriber = push_service.subscriber()
    push_service.answer(subscriber, 410)

    with pytest.raises(WebPushException) as raised:
        send(subscriber.as_subscription_info(), {"body": "anyone there?"})

    assert raised.value.response.status_code == 410
    assert push_service.refused == [Refusal(subscriber.endpoint, 410)]
    assert push_service.deliveries == push_service.failures == []


type Tamper = Callable[[PushService, dict[str, Any]], dict[str, Any]]


def wrong_keys(service: PushService, info: dict[str, Any]) -> dict[str, Any]:
    return {**info, "keys": service.subscriber().as_subscription_info()["keys"]}


def wrong_auth(service: PushService, info: dict[str, Any]) -> dict[str, Any]:
    return {**info, "keys": {**info["keys"], "auth": b64url(secrets.token_bytes(16))}}


@pytest.mark.parametrize(
    ("tamper", "options", "reason"),
    [
        (wrong_keys, {}, "does not decrypt"),
        (wrong_auth, {}, "does not decrypt"),
        (None, {"aud": "https://fcm.googleapis.com"}, "aud"),
        (None, {"exp": int(time.time()) + 25 * 3600}, "exp"),
        (None, {"sub": "admin@example.com", "key": LAX}, "sub"),  # py_vapid checks sub itself unless told not to
        (None, {"key": Vapid01.from_string(PRIVATE)}, "not RFC 8292's 'vapid'"),  # WebPush + Crypto-Key (draft 01)
    ],
)
def test_a_tampered_request_is_refused_and_recorded(
    push_service: PushService, tamper: Tamper | None, options: dict[str, Any], reason: str
) -> None:
    subscriber = push_service.subscriber()
    info = tamper(push_service, subscriber.as_subscription_info()) if tamper else subscriber.as_subscription_info()

    with pytest.raises(WebPushException) as raised:
        send(info, {"body": "secret"}, **options)

    assert raised.value.response.status_code == 400
    [failure] = push_service.failures
    assert failure.startswith(subscriber.endpoint) and reason in failure
    assert reason in raised.value.response.text
    assert push_service.deliveries == []
