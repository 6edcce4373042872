"""Two deployments on one Redis server stay apart: Redis pub/sub channels are global to the server (the database
number in REDIS_URL does not separate them), so each deployment's default channel prefix is its own.

Real uvicorn servers (the production command) with tests/support/production.py's page-like clients, as in
tests/test_reliability.py."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from .support.cluster import database_url, running  # noqa: F401  (fixtures and helpers shared)
from .support.production import Page, Workers, server_env, until

ROOT = Path(__file__).resolve().parent.parent


def redis_db(number: int) -> str:
    return urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{number}"))


def deployment_env(database: str, redis_url: str) -> dict[str, str]:
    """The production setup with no CHANNEL_PREFIX: the default namespace is under test."""
    env = server_env(database, redis_url, "", settings.SECRET_KEY)
    del env["CHANNEL_PREFIX"]
    return env


def page_on(workers: Workers, room, cookie: str, name: str) -> Page:
    page = Page(workers.address, room.pk, cookie, name)
    page.headers["Origin"] = f"http://{workers.address}"  # the page's own origin, port included
    return page


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_a_room_message_never_reaches_the_same_room_of_a_deployment_on_another_redis_database(
    people,
    database_url,
    tmp_path,
):
    """Deployment A on Redis database 7 and deployment B on database 9, as in the issue. Both serve the same
    room number (here the very same room row, so only the channel namespace can keep them apart)."""
    general, cookies = people["general"], people["cookies"]
    a_env, b_env = deployment_env(database_url, redis_db(7)), deployment_env(database_url, redis_db(9))
    a = Workers(a_env, count=1, log=tmp_path / "a.log")
    try:
        b = Workers(b_env, count=1, log=tmp_path / "b.log")
        try:
            alice_a = page_on(a, general, cookies["alice"], "alice on A")
            bob_a = page_on(a, general, cookies["bob"], "bob on A")
            carol_b = page_on(b, general, cookies["carol"], "carol on B")
            pages = [alice_a, bob_a, carol_b]
            with running(pages):
                # Caught up, not just connected: B's catch-up reads the database A writes to, so one answered
                # after alice's message would show it without any frame crossing over.
                assert await until(lambda: all(p.caught_up.is_set() for p in pages))
                await alice_a.say("for deployment A only")
                # Delivered live within A (so the message did go out on A's Redis)...
                assert await until(lambda: bob_a.bodies() == ["for deployment A only"])
                # ...and never to the same room on B: its page would show it at once if it came.
                await asyncio.sleep(1)
                assert carol_b.bodies() == []
                assert carol_b.connects == 1  # no reconnect (and catch-up) that could have hidden it
        finally:
            b.stop()
    finally:
        a.stop()


def prefix_of(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"CHANNEL_PREFIX", "DJANGO_SETTINGS_MODULE"}}
    shown = subprocess.run(
        [sys.executable, "-c", "from chatsite import settings; print(settings.CHANNEL_PREFIX)"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout.strip()


def test_the_default_prefix_follows_the_deployments_database_and_redis():
    here = {"DATABASE_URL": "postgres://roomcast@db.internal:5432/roomcast", "REDIS_URL": "redis://cache:6379/7"}
    one = prefix_of(**here)
    assert one.startswith("roomcast-") and one != "roomcast"
    # Every worker of one deployment agrees, whatever its credentials say.
    assert prefix_of(**{**here, "DATABASE_URL": "postgres://roomcast:secret@db.internal:5432/roomcast"}) == one
    assert prefix_of(**{**here, "REDIS_URL": "redis://cache:6379/9"}) != one  # another Redis database
    assert prefix_of(**{**here, "DATABASE_URL": "postgres://roomcast@db.internal:5432/staging"}) != one
    assert prefix_of(**here, CHANNEL_PREFIX="shared-on-purpose") == "shared-on-purpose"  # the override


def test_workers_of_one_deployment_agree_on_its_namespace_however_they_spell_its_addresses():
    from chatsite.settings import deployment_namespace

    db = {"ENGINE": "django.db.backends.postgresql", "HOST": "DB.internal", "PORT": "", "NAME": "roomcast"}
    same_db = {**db, "HOST": "db.internal", "PORT": 5432}
    one = deployment_namespace(db, "redis://cache.internal")
    assert one == deployment_namespace(same_db, "redis://cache.internal:6379/0")
    assert one == deployment_namespace(db, "redis://:secret@cache.internal:6379")  # credentials left out
    assert one != deployment_namespace(db, "redis://cache.internal/1")  # another Redis database
    assert one != deployment_namespace({**db, "NAME": "other"}, "redis://cache.internal")
