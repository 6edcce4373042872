"""A Redis outage seen in real browsers: the page says so, what is sent meanwhile is saved, and once Redis is
back every page catches up and shows each message once. The server here has a Redis of its own, restarted
for real (tests/test_reliability.py does the same across several uvicorn workers)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from rooms import services
from tests.support.production import RedisServer

from .conftest import _make_user, in_thread, instrument, live_daphne, login
from .support import assert_not_reloaded, mark_page, messages, send, wait_for_socket

OUTAGE = "Live updates are interrupted"


@pytest.fixture
def server_with_own_redis(django_db_blocker) -> Iterator[tuple[str, RedisServer]]:
    if shutil.which("redis-server") is None:
        reason = "redis-server is not installed: this test restarts a Redis of its own"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(f"SKIPPED LOUDLY: {reason}")
    redis = RedisServer()
    try:
        with live_daphne(django_db_blocker, {"REDIS_URL": redis.url}) as server:
            yield server.url, redis
    finally:
        redis.stop()


@pytest.fixture
def context_on(browser, browser_context_args):
    """context_on(url): a browser context whose pages resolve paths against `url` (not the session's server)."""
    contexts = []

    def _context_on(url: str):
        contexts.append(browser.new_context(**{**browser_context_args, "base_url": url}))
        return contexts[-1]

    yield _context_on
    for context in contexts:
        context.close()


def bodies(page: Page):
    return messages(page).locator(".body")


def room_page(open_context, url: str, username: str) -> Page:
    context = open_context(url)
    instrument(context)
    page = login(context.new_page(), username)
    page.goto("/rooms/general/")
    wait_for_socket(page)
    mark_page(page)
    return page


def test_a_redis_outage_shows_on_the_pages_and_what_is_sent_meanwhile_arrives_once(server_with_own_redis, context_on):
    url, redis = server_with_own_redis
    alice_user = _make_user("alice")
    _make_user("bob")
    in_thread(services.create_room, alice_user, "General")
    alice, bob = room_page(context_on, url, "alice"), room_page(context_on, url, "bob")

    send(alice, "before the outage")
    expect(bodies(bob)).to_have_text(["before the outage"])

    redis.stop()
    # Nobody has to send anything for the pages to learn of it (the server probes every 2 s).
    for page in (alice, bob):
        expect(page.locator("#connection")).to_contain_text(OUTAGE)
    send(alice, "sent during the outage")
    # Saved and acknowledged: her page shows it (from the database) though it could not go out live.
    expect(bodies(alice)).to_have_text(["before the outage", "sent during the outage"], timeout=8_000)
    expect(alice.locator("#composer textarea")).to_have_value("")
    expect(bodies(bob)).to_have_text(["before the outage"])

    redis.start()
    for page in (alice, bob):
        expect(page.locator("#connection")).to_be_hidden(timeout=10_000)
        expect(bodies(page)).to_have_text(["before the outage", "sent during the outage"])
        assert_not_reloaded(page)  # caught up live, over a new socket
    send(bob, "and after it")
    expect(bodies(alice)).to_have_text(["before the outage", "sent during the outage", "and after it"])
