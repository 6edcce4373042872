"""Hardened inputs: frame size, flood control, the CSP, production settings, allauth's rate limits, origins."""

import asyncio
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from realtime import limits
from rooms import services
from rooms.consumers import MAX_FRAME
from rooms.models import Message

from .helpers import closed_with, drain, frames_until, make_user, open_socket, send_frame
from .support.servers import serving, sign_in

ROOT = Path(__file__).resolve().parent.parent
# A send refused for now stays pending on the page, which sends it again by itself after the wait.
NOT_YET = re.compile(
    r'data-retry="\d+">You&#x27;re sending messages too fast\. This one goes out by itself in (\d+) s\.'
)
# An edit keeps its text in the edit box.
SLOW_DOWN = re.compile(r"You&#x27;re sending messages too fast\. Wait (\d+) s, then send again; your message is")


def stored_bodies() -> list[str]:
    return list(Message.objects.order_by("pk").values_list("body", flat=True))


async def status_for(comm, client_id: str) -> str:
    """The status frame answering the send with this client id."""
    return (await frames_until(comm, f'data-client-id="{client_id}"'))[-1]


# ---- frame size ------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_frame_over_64_kib_is_refused_unread_and_the_socket_stays_usable(people):
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    # Valid JSON of a huge message: refused for its size before it is parsed (daphne lets 1 MiB through).
    await alice.send_to(text_data=send_frame("x" * (MAX_FRAME + 1)))
    reply = (await frames_until(alice, 'data-ok="0"'))[-1]
    assert "That message is too large to send." in reply
    # Fewer characters than the limit, more bytes (UTF-8, as on the wire): the limit is in bytes.
    cyrillic = json.dumps({"body": "ж" * (MAX_FRAME // 2), "client_id": str(uuid.uuid4())}, ensure_ascii=False)
    assert len(cyrillic) < MAX_FRAME < len(cyrillic.encode())
    await alice.send_to(text_data=cyrillic)
    assert "too large" in (await frames_until(alice, 'data-ok="0"'))[-1]
    client_id = str(uuid.uuid4())
    await alice.send_to(text_data=send_frame("still here", client_id))
    assert 'data-ok="1"' in await status_for(alice, client_id)
    assert await database_sync_to_async(stored_bodies)() == ["still here"]
    await alice.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_the_longest_message_fits_in_a_frame_even_with_every_character_escaped(people):
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    longest = "😀" * Message.MAX_LENGTH  # json.dumps escapes each as a surrogate pair: 12 bytes a character
    frame = send_frame(longest)
    assert 12 * Message.MAX_LENGTH < len(frame.encode()) <= MAX_FRAME
    await alice.send_to(text_data=frame)
    assert 'data-ok="1"' in (await frames_until(alice, "data-ok="))[-1]
    assert await database_sync_to_async(stored_bodies)() == [longest]
    await alice.disconnect()


def readme_production_command() -> list[str]:
    """The uvicorn command the README gives for production, as words."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^uvicorn chatsite\.asgi:application .*?(?<!\\)$", text, re.M | re.S)
    assert match, "the README no longer shows the production uvicorn command"
    return shlex.split(match[0].replace("\\\n", " "))


def test_uvicorn_with_the_readme_command_closes_a_frame_over_64_kib_with_1009(tmp_path):
    words = readme_production_command()
    assert words[words.index("--ws-max-size") + 1] == str(MAX_FRAME)
    # The README's flags, on one worker and a free port of this machine.
    flags, skip = [], {"--host": 1, "--port": 1, "--workers": 1}
    rest = iter(words[2:])
    for word in rest:
        if word in skip:
            next(rest)
        else:
            flags.append(word)
    command = [sys.executable, "-m", "uvicorn", "chatsite.asgi:application", *flags, "--host", "127.0.0.1", "--port"]
    with serving(tmp_path, command) as address:
        base = f"http://{address}"
        cookies = sign_in(base, "alice")
        with connect(f"ws://{address}/ws/", additional_headers={"Cookie": cookies, "Origin": base}) as ws:
            ws.send(json.dumps({"action": "catch_up", "after": 0}))
            while 'id="unread-' not in ws.recv(timeout=5):
                pass  # a normal frame is answered (the catch-up's unread counts)
            ws.send(json.dumps({"body": "x" * MAX_FRAME, "client_id": str(uuid.uuid4())}))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # "message too big"


# ---- flood control ---------------------------------------------------------------------------------------


@pytest.fixture
def tight(settings):
    """A burst of 3, then one send every 5 s: easy to exhaust, slow to refill."""
    settings.SEND_BURST, settings.SEND_RATE = 3, 0.2
    return settings


def bucket_key(user, name: str = "write") -> str:
    return f"{django_settings.CHANNEL_PREFIX}:limit:{name}:{user.pk}"


@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_burst_passes_then_a_send_is_refused_with_a_notice_and_nothing_stored(people, tight):
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    for n in range(3):
        client_id = str(uuid.uuid4())
        await alice.send_to(text_data=send_frame(f"burst {n}", client_id))
        assert 'data-ok="1"' in await status_for(alice, client_id)
    refused_id = str(uuid.uuid4())
    await alice.send_to(text_data=send_frame("one too many", refused_id))
    status = await status_for(alice, refused_id)
    # The refusal names the send (the page keeps it pending) and when the page is to send it again.
    assert 'data-ok="0"' in status and 1 <= int(NOT_YET.search(status)[1]) <= 5
    assert await database_sync_to_async(stored_bodies)() == ["burst 0", "burst 1", "burst 2"]
    # The bucket lives in Redis, and expires once it would be full again.
    async with aioredis.Redis.from_url(django_settings.REDIS_URL) as client:
        assert 0 < await client.pttl(bucket_key(people["alice"])) <= 15_000
    await alice.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_sockets_and_workers_of_one_person_share_the_bucket_and_others_are_unaffected(people, tight):
    path = f"/ws/rooms/{people['general'].pk}/"
    tab1, _ = await open_socket(people["alice"], path)
    tab2, _ = await open_socket(people["alice"], path)
    bob, _ = await open_socket(people["bob"], path)
    # Another worker process, with its own connection to Redis, spends one of alice's three.
    other_worker = limits.RedisStore(django_settings.REDIS_URL)
    assert await other_worker.take(bucket_key(people["alice"]), 5000, 3, 0) == 0
    await tab1.send_to(text_data=send_frame("from tab 1", (first := str(uuid.uuid4()))))
    assert 'data-ok="1"' in await status_for(tab1, first)
    await tab2.send_to(text_data=send_frame("from tab 2", (second := str(uuid.uuid4()))))
    assert 'data-ok="1"' in await status_for(tab2, second)
    await tab1.send_to(text_data=send_frame("refused in tab 1", (third := str(uuid.uuid4()))))
    assert NOT_YET.search(await status_for(tab1, third))
    for n in range(3):  # bob has a bucket of his own
        await bob.send_to(text_data=send_frame(f"bob {n}", (client_id := str(uuid.uuid4()))))
        assert 'data-ok="1"' in await status_for(bob, client_id)
    assert await database_sync_to_async(stored_bodies)() == ["from tab 1", "from tab 2", "bob 0", "bob 1", "bob 2"]
    for comm in (tab1, tab2, bob):
        await comm.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_after_the_wait_the_send_goes_through(people, settings):
    settings.SEND_BURST, settings.SEND_RATE = 2, 4  # a new send every 250 ms
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    for n in range(2):
        await alice.send_to(text_data=send_frame(f"quick {n}", (client_id := str(uuid.uuid4()))))
        assert 'data-ok="1"' in await status_for(alice, client_id)
    refused = str(uuid.uuid4())
    await alice.send_to(text_data=send_frame("again", refused))
    retry = re.search(r'data-retry="(\d+)"', await status_for(alice, refused))
    assert 0 < int(retry[1]) <= 250  # in milliseconds: the page waits just that long
    await asyncio.sleep(0.3)
    await alice.send_to(text_data=send_frame("again", refused))  # what the page does: the same text, sent again
    assert 'data-ok="1"' in await status_for(alice, refused)
    assert await database_sync_to_async(stored_bodies)() == ["quick 0", "quick 1", "again"]
    await alice.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_edits_and_deletes_draw_from_the_same_bucket(people, tight):
    post = database_sync_to_async(services.post_message)
    message = (await post(people["alice"], people["general"].pk, "typo", uuid.uuid4())).message
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    for n in range(3):
        edit = {"action": "edit", "message_id": message.pk, "body": f"fixed {n}", "client_id": f"edit-{n}"}
        await alice.send_to(text_data=json.dumps(edit))
        await frames_until(alice, f"fixed {n}")
    await alice.send_to(text_data=json.dumps({"action": "edit", "message_id": message.pk, "body": "late"}))
    assert SLOW_DOWN.search((await frames_until(alice, 'data-ok="0"'))[-1])
    await alice.send_to(text_data=json.dumps({"action": "delete", "message_id": message.pk}))
    reply = (await frames_until(alice, 'data-ok="0"'))[-1]
    assert re.search(r"You&#x27;re doing that too fast\. Wait \d s, then try again\.", reply)
    current = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert current.body == "fixed 2" and current.deleted_at is None
    await alice.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_catch_up_waits_its_turn_and_only_a_flood_is_refused(people, settings):
    settings.CATCH_UP_BURST, settings.CATCH_UP_RATE = 1, 2  # one at once, then one every 500 ms
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(3):
        await alice.send_to(text_data=json.dumps({"action": "catch_up", "after": 0}))
        await frames_until(alice, 'data-upto="')
    assert 0.9 < loop.time() - started < 3  # the 2nd and 3rd each waited about 500 ms, none was refused
    assert 'data-ok="0"' not in "".join(await drain(alice))

    settings.CATCH_UP_RATE = 0.1  # a turn every 10 s: the next one waits briefly, the one after it too long
    for _ in range(2):
        await alice.send_to(text_data=json.dumps({"action": "catch_up", "after": 0}))
    reply = (await frames_until(alice, 'data-ok="0"', timeout=8))[-1]
    assert "Too many requests to catch up. Wait" in reply
    await alice.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_sends_go_through_unlimited_while_redis_is_unreachable(people, tight, monkeypatch, caplog):
    monkeypatch.setattr(limits, "store", limits.RedisStore("redis://127.0.0.1:1/0"))  # nothing listens there
    monkeypatch.setattr(limits, "_warned_at", float("-inf"))
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    for n in range(5):
        await alice.send_to(text_data=send_frame(f"during the outage {n}", (client_id := str(uuid.uuid4()))))
        assert 'data-ok="1"' in await status_for(alice, client_id)
    assert len(await database_sync_to_async(stored_bodies)()) == 5
    warnings = [r for r in caplog.records if "flood control is off" in r.getMessage()]
    assert len(warnings) == 1  # once, not once per frame
    await alice.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_zero_turns_the_limit_off(people, settings):
    settings.SEND_BURST, settings.SEND_RATE = 10, 0
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    for n in range(25):
        await alice.send_to(text_data=send_frame(f"n{n}", (client_id := str(uuid.uuid4()))))
        assert 'data-ok="1"' in await status_for(alice, client_id)
    await alice.disconnect()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_the_in_memory_twin_follows_the_same_rule_as_redis(kind):
    if kind == "redis" and not django_settings.REDIS_URL:
        pytest.skip("SKIPPED LOUDLY: REDIS_URL is not set")
    store = limits.MemoryStore() if kind == "memory" else limits.RedisStore(django_settings.REDIS_URL)
    key = f"{django_settings.CHANNEL_PREFIX}:limit:twin:{uuid.uuid4().hex}"
    # A burst of 3 at 100 ms each: three at once, the 4th refused for ~100 ms, nothing taken by a refusal.
    assert [await store.take(key, 100, 3, 0) for _ in range(3)] == [0, 0, 0]
    refused = await store.take(key, 100, 3, 0)
    assert -100 <= refused < -50
    assert await store.take(key, 100, 3, 0) < 0
    # A caller that may wait gets its turn reserved instead, and the one after it waits a turn longer.
    first, second = await store.take(key, 100, 3, 1000), await store.take(key, 100, 3, 1000)
    assert 50 < first <= 100 and 150 < second <= 200
    await asyncio.sleep(0.6)  # refilled: a burst again
    assert [await store.take(key, 100, 3, 0) for _ in range(3)] == [0, 0, 0]


# ---- content security policy -----------------------------------------------------------------------------

NONCE = re.compile(r"script-src 'self' 'nonce-([\w-]+)'")


@pytest.mark.django_db
def test_pages_carry_the_policy_with_a_fresh_nonce_on_each_script(alice):
    room = services.create_room(alice, "General")
    signed_in = Client()
    signed_in.force_login(alice)
    nonces = []
    pages = [(signed_in, room.get_absolute_url()), (signed_in, room.get_absolute_url()), (Client(), "/accounts/login/")]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        for directive in (
            "default-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'",
            "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
        ):  # fmt: skip
            assert directive in policy
        nonce = NONCE.search(policy)[1]
        scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
        # htmx, its ws extension, the page's module (and, while a signed-in account's time zone is not known
        # yet, the module that reports it): each with this response's nonce
        assert len(scripts) == (4 if "timezone.js" in response.content.decode() else 3)
        assert all(f'nonce="{nonce}"' in tag and "src=" in tag for tag in scripts)
        nonces.append(nonce)
    assert len(set(nonces)) == 3 and all(len(n) >= 16 for n in nonces)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_style_or_event_handlers():
    """The CSP allows none; a template that adds one breaks its page in the browser."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = re.sub(r"{#.*?#}|{%.*?%}", "", template.read_text())  # what reaches the browser
        inline = (r"<script\b(?![^>]*\bsrc=)", r"<style\b", r"\sstyle=", r"\son[a-z]+=", r"javascript:", r"\shx-on")
        for pattern in inline:
            offenders += [f"{template.relative_to(ROOT)}: {m[0]!r}" for m in re.finditer(pattern, text)]
    assert offenders == []


def test_the_500_page_needs_nothing_the_policy_forbids():
    page = render_to_string("500.html")  # rendered as Django does for a server error: no request, no nonce
    assert "Something went wrong" in page and 'href="/static/roomcast.css"' in page
    assert "style=" not in page and "<style" not in page and "<script" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/rooms/%00/", "/dm/%00/", "/rooms/general/?around=%00", "/admin/auth/user/?q=%00"])
def test_a_url_with_a_nul_character_is_a_bad_request_not_a_server_error(path):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    assert client.get(path).status_code == 400  # PostgreSQL cannot hold NUL: it never reaches a query


# ---- production settings ---------------------------------------------------------------------------------


def production_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    return {
        **env,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "chat.example.com",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        **extra,
    }


def without(env: dict, name: str) -> dict:
    return {k: v for k, v in env.items() if k != name}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_finds_nothing_in_production():
    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert checked.returncode == 0, checked.stderr
    # Only the two HSTS opt-ins are silenced (see settings: every subdomain, browsers' preload lists).
    assert "System check identified no issues (2 silenced)." in checked.stdout
    # Left on the development mail backend, production is told so.
    console = manage("check", "--deploy", env=without(production_env(), "EMAIL_BACKEND"))
    assert "mail.E001" in console.stderr


# Run inside the production settings: what a browser gets over plain HTTP, over HTTPS, and via the proxy.
PROBE = """
import json
from django.conf import settings
from django.test import Client
plain = Client().get("/accounts/login/")
tls = Client().get("/accounts/login/", secure=True)
proxied = Client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({
    "plain": [plain.status_code, plain.headers.get("Location")],
    "tls": [tls.status_code, tls.headers.get("Strict-Transport-Security"), tls.cookies["csrftoken"]["secure"]],
    "proxied": proxied.status_code,
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY, settings.CSRF_COOKIE_SECURE],
    "opt_in": [settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD],
    "policy": "frame-ancestors 'none'" in tls.headers["Content-Security-Policy"],
}))
"""


@pytest.mark.parametrize("proxy_header", ["", "HTTP_X_FORWARDED_PROTO"])
def test_production_redirects_to_https_with_hsts_and_secure_cookies(tmp_path, proxy_header):
    env = production_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), SECURE_PROXY_SSL_HEADER=proxy_header)
    ran = manage("shell", "-c", PROBE, env={**without(env, "DATABASE_URL"), "ALLOWED_HOSTS": "testserver"})
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://testserver/accounts/login/"]
    assert seen["tls"] == [200, "max-age=31536000", True]
    assert seen["cookies"] == [True, True, True] and seen["opt_in"] == [False, False] and seen["policy"]
    # The proxy's X-Forwarded-Proto counts only when configured: else a proxied request would be redirected.
    assert seen["proxied"] == (200 if proxy_header else 301)


# ---- allauth's rate limits -------------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db
def test_repeated_failed_logins_are_refused_with_the_counter_in_redis(alice):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    assert isinstance(cache, RedisCache)  # shared by every worker
    address = "203.0.113.7"  # an address of its own: other tests log in from 127.0.0.1 meanwhile
    attacker = Client(REMOTE_ADDR=address)
    for _ in range(5):
        wrong = attacker.post("/accounts/login/", {"login": "alice", "password": "guess"})
        assert "The username and/or password you specified are not correct." in wrong.content.decode()
    # The sixth try is refused even with the right password, and from a fresh client (another worker, say).
    fresh = Client(REMOTE_ADDR=address)
    refused = fresh.post("/accounts/login/", {"login": "alice", "password": "correct-horse-battery"})
    assert "Too many failed login attempts. Try again later." in refused.content.decode()
    assert "_auth_user_id" not in fresh.session

    async def counters() -> list[bytes]:
        async with aioredis.Redis.from_url(django_settings.REDIS_URL) as client:
            return await client.keys(f"{django_settings.CHANNEL_PREFIX}:1:allauth:rl:allauth.account:login_failed:*")

    assert len(asyncio.run(counters())) == 2  # per address and per login tried


# ---- origins ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.parametrize(
    "origin",
    [None, b"null", b"http://evil.example", b"http://127.0.0.1.evil.example", b"http://evil.example/127.0.0.1"],
)
async def test_sockets_without_an_allowed_origin_are_refused(people, origin):
    _, connected = await open_socket(people["alice"], "/ws/", origin=(b"origin", origin) if origin else None)
    assert not connected


@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_signed_out_socket_with_a_good_origin_is_still_closed(people):
    comm, connected = await open_socket(None, f"/ws/rooms/{people['general'].pk}/")
    assert connected and await closed_with(comm) == 4401
