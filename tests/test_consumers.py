"""The websocket path over the real channels-redis layer: who receives what, and what is refused."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import Client

from rooms import services
from rooms.models import Message, Room

from .helpers import closed_with, drain, frames_until, make_user, never_sees, open_socket, send_frame, stays_open

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.redis]


async def close_all(*comms) -> None:
    for comm in comms:
        await comm.disconnect()


async def test_room_broadcast_reaches_every_member_and_no_one_outside(people):
    general, other = people["general"], people["elsewhere"]
    alice, ok_a = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    bob, ok_b = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    carol, ok_c = await open_socket(people["mod"], f"/ws/rooms/{other.pk}/")  # in none of alice's rooms
    assert ok_a and ok_b and ok_c

    await alice.send_to(text_data=send_frame("hello <b>room</b>"))

    for comm in (alice, bob):  # the sender sees her own message through the same broadcast
        frames = await frames_until(comm, "hello &lt;b&gt;room&lt;/b&gt;")
        assert f'id="messages-{general.pk}" hx-swap-oob="beforeend"' in frames[-1]
        assert "<b>room</b>" not in frames[-1]  # escaped, never raw HTML
    assert await never_sees(carol, "hello")
    assert await database_sync_to_async(Message.objects.filter(room=general).count)() == 1
    await close_all(alice, bob, carol)


async def test_sender_gets_an_acknowledgement_for_its_client_id(people):
    general = people["general"]
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    client_id = str(uuid.uuid4())
    await alice.send_to(text_data=send_frame("hi", client_id))
    frames = await frames_until(alice, f'data-client-id="{client_id}" data-ok="1"')
    assert 'id="composer-status"' in frames[-1]
    await close_all(alice)


async def test_dm_reaches_both_people_on_every_tab_and_no_third_user(people):
    dm = people["dm"]
    alice_dm_tab, _ = await open_socket(people["alice"], f"/ws/rooms/{dm.pk}/")
    alice_list_tab, _ = await open_socket(people["alice"], "/ws/")
    bob_tab, _ = await open_socket(people["bob"], f"/ws/rooms/{people['general'].pk}/")
    carol_tab, _ = await open_socket(people["carol"], "/ws/")
    carol_room_tab, _ = await open_socket(people["carol"], f"/ws/rooms/{people['general'].pk}/")

    await alice_dm_tab.send_to(text_data=send_frame("just between us"))

    for comm in (alice_dm_tab, alice_list_tab, bob_tab):
        frame = (await frames_until(comm, "just between us"))[-1]
        assert f'id="messages-{dm.pk}"' in frame
    for comm in (carol_tab, carol_room_tab):
        assert await never_sees(comm, "just between us")
    await close_all(alice_dm_tab, alice_list_tab, bob_tab, carol_tab, carol_room_tab)


async def test_a_new_dm_appears_in_the_sidebars_naming_the_other_once_it_has_a_message(people):
    dave = await database_sync_to_async(make_user)("dave")
    alice, _ = await open_socket(people["alice"], "/ws/")
    dave_tab, _ = await open_socket(dave, "/ws/")
    dm = await database_sync_to_async(services.direct_room)(people["alice"], dave)  # alice opens /dm/dave/
    alice_entry = (await frames_until(alice, f'id="dm-{dm.pk}"'))[-1]
    assert "@dave" in alice_entry and "@alice" not in alice_entry
    assert await never_sees(dave_tab, f'id="dm-{dm.pk}"')  # just looking is not a conversation yet

    # The first message lists the conversation for dave, naming alice, then raises its count.
    await database_sync_to_async(services.post_message)(people["alice"], dm.pk, "hi dave", uuid.uuid4())
    frames = await frames_until(dave_tab, "hi dave")
    entry = next(f for f in frames if f'id="dm-{dm.pk}"' in f)
    assert "@alice" in entry and "@dave" not in entry
    assert frames.index(entry) < len(frames) - 1
    await frames_until(alice, "hi dave")
    await close_all(alice, dave_tab)


async def test_anonymous_socket_is_accepted_then_closed_for_good(people):
    comm, connected = await open_socket(None, f"/ws/rooms/{people['general'].pk}/")
    assert connected
    assert await closed_with(comm) == 4401


async def test_foreign_origin_socket_is_refused(people):
    _, connected = await open_socket(people["alice"], "/ws/", origin=(b"origin", b"http://evil.example"))
    assert not connected
    _, connected = await open_socket(people["alice"], "/ws/", origin=None)
    assert not connected


async def test_non_participant_cannot_open_a_dm_socket(people):
    comm, connected = await open_socket(people["carol"], f"/ws/rooms/{people['dm'].pk}/")
    assert connected
    assert await closed_with(comm) == 4404


async def test_unknown_room_socket_is_closed(people):
    comm, _ = await open_socket(people["alice"], "/ws/rooms/999999/")
    assert await closed_with(comm) == 4404


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (send_frame("x" * 4001), "Message is too long: 4,001 characters"),
        (send_frame("y" * 40_000), "Message is too long: 40,000 characters"),
        ("[" * 30_000 + "]" * 30_000, "could not be read"),  # within the size limit, deeper than JSON may go
        ("[" * 100_000 + "]" * 100_000, "That message is too large to send."),
        (send_frame("   \n  "), "Message is empty."),
        ("{not json", "could not be read"),
        ('["a list"]', "could not be read"),
        ('{"body": 5}', "could not be read"),
        ('{"action": ["send"], "body": "x"}', "could not be read"),
        ('{"action": "edit", "message_id": {"$gt": 0}, "body": "x"}', "could not be read"),
        ('{"body": "hi", "client_id": "nope"}', "bad client id"),
    ],
)
async def test_bad_frame_gets_an_error_and_the_socket_stays_usable(people, frame, error):
    general = people["general"]
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    await alice.send_to(text_data=frame)
    reply = (await frames_until(alice, 'data-ok="0"'))[-1]
    assert error in reply and "composer-status" in reply
    await alice.send_to(text_data=send_frame("still here"))
    await frames_until(alice, "still here")
    bodies = await database_sync_to_async(lambda: list(Message.objects.values_list("body", flat=True)))()
    assert bodies == ["still here"]
    await close_all(alice)


async def test_binary_frame_gets_an_error(people):
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    await alice.send_to(bytes_data=b"\x00\x01")
    assert "only takes text frames" in (await frames_until(alice, 'data-ok="0"'))[-1]
    await close_all(alice)


async def test_sending_from_a_page_without_a_room_is_refused(people):
    alice, _ = await open_socket(people["alice"], "/ws/")
    await alice.send_to(text_data=send_frame("into the void"))
    assert "Open a room" in (await frames_until(alice, 'data-ok="0"'))[-1]
    assert await database_sync_to_async(Message.objects.count)() == 0
    await close_all(alice)


async def test_replayed_send_with_the_same_client_id_is_stored_once(people):
    general = people["general"]
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    client_id = str(uuid.uuid4())
    await alice.send_to(text_data=send_frame("only once", client_id))
    await frames_until(alice, f'data-client-id="{client_id}" data-ok="1"')
    await alice.send_to(text_data=send_frame("only once", client_id))  # the offline queue replaying it
    await frames_until(alice, f'data-client-id="{client_id}" data-ok="1"')
    assert await database_sync_to_async(Message.objects.filter(body="only once").count)() == 1
    await frames_until(bob, "only once")
    assert await never_sees(bob, "only once")  # and bob sees it once
    await close_all(alice, bob)


async def test_deactivation_closes_every_socket_of_the_user_and_blocks_reconnect(people):
    general = people["general"]
    tab1, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    tab2, _ = await open_socket(people["alice"], "/ws/")
    bob, _ = await open_socket(people["bob"], "/ws/")

    def deactivate():
        alice = people["alice"]
        alice.is_active = False
        alice.save()

    await database_sync_to_async(deactivate)()
    assert await closed_with(tab1) == 4403
    assert await closed_with(tab2) == 4403
    # Bob's socket stays open: he may see alice's online dot go grey, but no close (receive_from rejects one).
    assert await stays_open(bob)

    again, connected = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    assert connected and await closed_with(again) == 4401
    await close_all(bob)


async def test_admin_delete_removes_the_message_from_open_screens(people):
    general = people["general"]
    message = (
        await database_sync_to_async(services.post_message)(people["alice"], general.pk, "oops", uuid.uuid4())
    ).message
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    carol_elsewhere, _ = await open_socket(people["mod"], f"/ws/rooms/{people['elsewhere'].pk}/")
    admin = await database_sync_to_async(make_user)("admin", is_staff=True, is_superuser=True)

    def delete_in_admin():
        client = Client()
        client.force_login(admin)
        return client.post(f"/admin/rooms/message/{message.pk}/delete/", {"post": "yes"})

    response = await sync_to_async(delete_in_admin)()
    assert response.status_code == 302
    frame = (await frames_until(bob, f'id="msg-{message.pk}"'))[-1]
    assert 'class="message deleted"' in frame and "oops" not in frame
    assert await never_sees(carol_elsewhere, f'id="msg-{message.pk}"')
    refreshed = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert refreshed.deleted_at is not None and refreshed.deleted_by_id == admin.pk
    await close_all(bob, carol_elsewhere)


async def test_dm_deletion_reaches_only_the_two_people(people):
    dm = people["dm"]
    post = database_sync_to_async(services.post_message)
    message = (await post(people["bob"], dm.pk, "secret", uuid.uuid4())).message
    alice, _ = await open_socket(people["alice"], "/ws/")
    carol, _ = await open_socket(people["carol"], "/ws/")
    await database_sync_to_async(services.delete_messages)(Message.objects.filter(pk=message.pk), people["alice"])
    await frames_until(alice, f'id="msg-{message.pk}" class="message deleted"')
    assert await never_sees(carol, f'id="msg-{message.pk}"')
    assert await database_sync_to_async(Room.objects.filter(pk=dm.pk).exists)()
    await close_all(alice, carol)


async def test_logging_out_closes_the_sockets_of_that_session_only(people):
    general = people["general"]
    tab, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    other_device, _ = await open_socket(people["alice"], "/ws/")  # another login, another session

    def log_out_of_the_first_session():
        cookie = dict(h for h in tab.scope["headers"] if h[0] == b"cookie")[b"cookie"].decode()
        client = Client()
        client.cookies.load(cookie)
        return client.post("/accounts/logout/")

    assert (await sync_to_async(log_out_of_the_first_session)()).status_code == 302
    assert await closed_with(tab) == 4401
    assert await stays_open(other_device)
    await other_device.send_to(text_data=send_frame("still signed in elsewhere"))
    assert "Open a room" in (await frames_until(other_device, 'data-ok="0"'))[-1]  # answered, so still open
    await close_all(other_device)


async def test_an_idle_socket_stays_up_longer_than_the_redis_read_timeout(people):
    # redis-py 8's default 5 s socket timeout killed every consumer idle for 5 s under channels-redis's
    # RedisChannelLayer (django/channels_redis#422); whatever the layer, an idle socket must stay up.
    general = people["general"]
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await asyncio.sleep(7)
    await database_sync_to_async(services.post_message)(people["alice"], general.pk, "still there?", uuid.uuid4())
    await frames_until(bob, "still there?")
    await close_all(bob)


async def test_sockets_opening_together_are_served_by_one_subscription(people):
    """A worker receives each message once however many of its sockets want it: sockets that open at the same
    moment must not each start a hub of their own (each with its own subscription and housekeeping)."""
    import redis.asyncio as redis
    from django.conf import settings

    general = people["general"]
    names = ["alice", "bob"] * 4
    tabs = [t for t, _ in await asyncio.gather(*(open_socket(people[n], f"/ws/rooms/{general.pk}/") for n in names))]
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    async with redis.Redis.from_url(settings.REDIS_URL) as client:
        assert len(await client.pubsub_channels(f"{prefix}hub*")) == 1
    await database_sync_to_async(services.post_message)(people["alice"], general.pk, "to every tab", uuid.uuid4())
    for tab in tabs:
        frames = await frames_until(tab, "to every tab")
        assert sum("to every tab" in f for f in frames + await drain(tab)) == 1
    await close_all(*tabs)


async def test_one_person_may_keep_only_so_many_pages_open(people, settings):
    settings.SOCKETS_PER_PERSON = 2
    general = people["general"]
    first, ok_1 = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    second, ok_2 = await open_socket(people["alice"], "/ws/")
    assert ok_1 and ok_2
    third, ok_3 = await open_socket(people["alice"], "/ws/")
    assert ok_3 and await closed_with(third) == 4429  # accepted, then closed for good: the page does not retry
    bob, ok_b = await open_socket(people["bob"], "/ws/")  # others are not affected
    assert ok_b
    await first.disconnect()
    again, ok_again = await open_socket(people["alice"], "/ws/")  # a closed page frees its place
    assert ok_again
    await again.send_to(text_data='{"action": "catch_up", "after": 0}')
    await frames_until(again, 'id="unread-')  # open and answering
    await close_all(second, bob, again)
