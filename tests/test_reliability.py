"""The production setup under faults: several uvicorn workers on one Redis and PostgreSQL, a Redis restart,
a worker killed mid-conversation. Clients are tests/support/production.py's pages, which do what the browser
page does."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from rooms.models import Message, Room

from .support.cluster import database_url, page, private_redis, running, serving  # noqa: F401 (fixtures too)
from .support.production import server_env, settle, tally, until

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.redis]


@database_sync_to_async
def stored(room: Room) -> tuple[list[tuple[int, int, str]], int]:
    rows = list(Message.objects.visible().filter(room=room).values_list("pk", "seq", "body"))
    return rows, Room.objects.get(pk=room.pk).last_seq


async def test_two_workers_share_rooms_dms_presence_and_typing(people, database_url, tmp_path):
    """Two server processes on one Redis: alice on the first, bob and carol on the second."""
    env = server_env(database_url, settings.REDIS_URL, settings.CHANNEL_PREFIX, settings.SECRET_KEY)
    general, dm = people["general"], people["dm"]
    with serving(env, 1, tmp_path, "first") as first, serving(env, 1, tmp_path, "second") as second:
        alice, bob = page(first, general, people, "alice"), page(second, general, people, "bob")
        carol = page(second, general, people, "carol")
        alice_dm, bob_dm = page(first, dm, people, "alice"), page(second, dm, people, "bob")
        pages = [alice, bob, carol, alice_dm, bob_dm]
        for p in pages:
            p.keep_frames = True
        with running(pages):
            assert await until(lambda: all(p.connected.is_set() for p in pages))

            await alice.say("hello from the first worker")
            await bob.say("and hello from the second")
            both = ["and hello from the second", "hello from the first worker"]  # sent at once: either order
            assert await until(lambda: all(sorted(p.bodies()) == both for p in (alice, bob, carol)))

            # Presence: bob's page, served by the second worker, lists alice, who is on the first.
            assert await until(lambda: any("Here now: alice, bob, carol" in f for f in bob.frames))
            # Typing crosses workers too, and never comes back to the typist.
            await alice.typing()
            assert await until(lambda: any("alice is typing" in f for f in bob.frames + carol.frames))
            assert not any("alice is typing" in f for f in alice.frames)

            await alice_dm.say("psst, bob")
            assert await until(lambda: bob_dm.bodies() == ["psst, bob"])
            await asyncio.sleep(0.5)
            assert not any("psst" in f for f in carol.frames)  # on the same worker as bob, in the same room


async def test_redis_restart_pages_show_the_outage_then_catch_up_exactly_once(
    people, database_url, private_redis, tmp_path
):
    env = server_env(database_url, private_redis.url, settings.CHANNEL_PREFIX, settings.SECRET_KEY)
    general = people["general"]
    with serving(env, 1, tmp_path, "first") as first, serving(env, 1, tmp_path, "second") as second:
        alice, bob = page(first, general, people, "alice"), page(second, general, people, "bob")
        with running([alice, bob]):
            assert await until(lambda: alice.connected.is_set() and bob.connected.is_set())
            await alice.say("before the restart")
            assert await until(lambda: bob.bodies() == ["before the restart"])

            private_redis.stop()
            # Both pages are told within the hub's watch interval (2 s), though nobody said anything.
            assert await until(lambda: alice.outage_notices and bob.outage_notices, within=6)
            await alice.say("during the outage")  # saved (PostgreSQL is up) and acknowledged
            await bob.say("bob too, meanwhile")
            assert await until(lambda: not alice.pending and not bob.pending, within=5)

            private_redis.start()
            # Each worker's subscription comes back, and its pages reconnect (1012) and catch up.
            assert await until(lambda: 1012 in alice.closes and 1012 in bob.closes, within=15)
            await alice.say("after the restart")
            rows, last_seq = await stored(general)
            assert await settle([alice, bob], last_seq + 1)

    rows, _ = await stored(general)
    expected = ["before the restart", "during the outage", "bob too, meanwhile", "after the restart"]
    assert sorted(body for _, _, body in rows) == sorted(expected)  # each stored once
    assert alice.bodies() == bob.bodies() == [body for _, _, body in sorted(rows, key=lambda r: r[1])]
    result = tally([alice, bob], rows)
    assert (result["lost"], result["duplicated"], result["stored_twice"], result["unsaved"]) == (0, 0, 0, 0)


async def test_a_worker_killed_mid_conversation_its_pages_reconnect_to_another_and_catch_up(
    people, database_url, tmp_path
):
    # Three pages per person, each sending 8 messages in about 1.5 s: past flood control's burst.
    env = server_env(database_url, settings.REDIS_URL, settings.CHANNEL_PREFIX, settings.SECRET_KEY, False)
    general = people["general"]
    with serving(env, 2, tmp_path, "workers") as workers:
        pages = [page(workers, general, people, who) for who in ("alice", "bob", "carol") for _ in range(3)]
        with running(pages):
            assert await until(lambda: all(p.connected.is_set() for p in pages))
            assert await until(lambda: sum(workers.connections().values()) == len(pages))
            on_victim = max(workers.connections().values())

            async def chat(rounds: int, tag: str) -> None:
                for n in range(rounds):
                    for p in pages:
                        await p.say(f"{tag} {n} from {p.name} #{pages.index(p)}")
                    await asyncio.sleep(0.15)

            talking = asyncio.ensure_future(chat(6, "first"))
            await asyncio.sleep(0.3)
            workers.kill_worker()  # mid-conversation: some sends were in flight on it
            await talking
            await chat(2, "then")
            rows, last_seq = await stored(general)
            assert await settle(pages, last_seq)
            rows, last_seq = await stored(general)
            assert await settle(pages, last_seq)

    dropped = [p for p in pages if 1006 in p.closes]
    assert len(dropped) == on_victim  # every page of the killed worker noticed, and came back
    assert all(p.connects >= 2 for p in dropped)
    result = tally(pages, rows)
    assert result["sent"] == len(pages) * 8 and result["unsaved"] == 0 and result["stored_twice"] == 0
    assert (result["lost"], result["duplicated"], result["unknown"]) == (0, 0, 0)
    assert result["delivered"] == result["expected"] == len(rows) * len(pages)
