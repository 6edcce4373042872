"""Catch-up, unread, presence, typing, edit and delete over the real channels-redis layer."""

import asyncio
import json
import uuid

import pytest
from channels.db import database_sync_to_async

from realtime import presence
from rooms import services
from rooms.models import Membership, Message

from .helpers import (
    PageModel,
    closed_with,
    drain,
    frames_until,
    never_sees,
    open_socket,
    open_socket_with_cookie,
    send_frame,
    stays_open,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.redis]

post = database_sync_to_async(services.post_message)


def action(name: str, **fields) -> str:
    return json.dumps({"action": name, **fields})


async def visible_bodies(room) -> list[str]:
    return await database_sync_to_async(
        lambda: list(room.messages.visible().order_by("seq").values_list("body", flat=True))
    )()


async def test_reconnect_catches_up_on_new_edited_and_deleted_messages_exactly_once(people):
    general, alice_user = people["general"], people["alice"]
    first = (await post(alice_user, general.pk, "first", uuid.uuid4())).message
    doomed = (await post(alice_user, general.pk, "to be deleted", uuid.uuid4())).message

    page = PageModel()
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await bob.send_to(text_data=action("catch_up", after=0))
    for frame in await drain(bob):
        page.apply(frame)
    assert page.bodies() == ["first", "to be deleted"]
    await bob.disconnect()  # laptop sleeps

    alice, _ = await open_socket(alice_user, f"/ws/rooms/{general.pk}/")
    for text in ("one", "two", "three"):
        await alice.send_to(text_data=send_frame(text))
    await alice.send_to(text_data=action("edit", message_id=first.pk, body="first (fixed)"))
    await alice.send_to(text_data=action("delete", message_id=doomed.pk))
    await drain(alice)

    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await bob.send_to(text_data=action("catch_up", after=page.cursor))
    # A live frame racing the catch-up (here: a message sent right after reconnecting) is placed once too.
    await alice.send_to(text_data=send_frame("four"))
    for frame in await drain(bob):
        page.apply(frame)
    await bob.send_to(text_data=action("catch_up", after=0))  # a page that asks again changes nothing
    frames_after = await drain(bob)
    for frame in frames_after:
        page.apply(frame)

    # Each catch-up says up to which change it is complete, so the page's cursor cannot stall on the
    # numbers an edited or deleted message used before.
    last_change = await database_sync_to_async(lambda: type(general).objects.get(pk=general.pk).last_seq)()
    assert f'data-upto="{last_change}"' in "".join(frames_after)
    assert page.bodies() == ["first (fixed)", "one", "two", "three", "four"]
    assert page.bodies() == await visible_bodies(general)
    await alice.disconnect()
    await bob.disconnect()


async def test_catch_up_of_a_room_someone_may_not_see_is_refused(people):
    dm = await database_sync_to_async(services.direct_room)(people["alice"], people["bob"])
    await post(people["alice"], dm.pk, "private", uuid.uuid4())
    # A socket on the conversation itself is refused outright.
    refused, _ = await open_socket(people["carol"], f"/ws/rooms/{dm.pk}/")
    assert await closed_with(refused) == 4404
    # On a page she may see, she asks for a catch-up naming the conversation every way a client could: the
    # socket answers for its own room only, and nothing of the conversation comes back.
    carol, _ = await open_socket(people["carol"], f"/ws/rooms/{people['general'].pk}/")
    for field in ("room_id", "room", "conversation"):
        await carol.send_to(text_data=json.dumps({"action": "catch_up", "after": 0, field: dm.pk}))
        answer = "".join(await frames_until(carol, 'data-upto="'))
        assert f'id="messages-{people["general"].pk}"' in answer  # her own room's catch-up: it was answered
        assert "private" not in answer and f"messages-{dm.pk}" not in answer
    await carol.disconnect()


async def test_unread_counts_across_two_tabs_and_after_reconnect(people):
    general = people["general"]
    bob_list, _ = await open_socket(people["bob"], "/ws/")
    bob_other, _ = await open_socket(people["bob"], f"/ws/rooms/{people['elsewhere'].pk}/")
    await post(people["alice"], general.pk, "one", uuid.uuid4())
    await post(people["alice"], general.pk, "two", uuid.uuid4())
    # Both tabs follow the room, so both raise their badge from the same frames.
    for tab in (bob_list, bob_other):
        await frames_until(tab, "two")
    assert (await database_sync_to_async(services.counts)(people["bob"]))[general.pk] == (2, 0)

    # After a reconnect the page asks for fresh counts and gets the truth from the database.
    await bob_other.send_to(text_data=action("catch_up", after=0))
    snapshot = (await frames_until(bob_other, f'id="unread-{general.pk}"'))[-1]
    assert f'<span id="unread-{general.pk}" class="count" hx-swap-oob="true">2</span>' in snapshot

    # Bob reads the room in a third tab: every tab of his gets the new count.
    bob_room, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    last_seq = await database_sync_to_async(lambda: general.messages.order_by("-seq").first().seq)()
    await bob_room.send_to(text_data=action("read", seq=last_seq))
    cleared = f'<span id="unread-{general.pk}" class="count" hx-swap-oob="true"></span>'
    for tab in (bob_list, bob_other, bob_room):
        assert cleared in (await frames_until(tab, cleared))[-1]
    assert (await database_sync_to_async(services.counts)(people["bob"]))[general.pk] == (0, 0)
    # Alice's own messages never count as unread for her.
    assert (await database_sync_to_async(services.counts)(people["alice"]))[general.pk] == (0, 0)
    for tab in (bob_list, bob_other, bob_room):
        await tab.disconnect()


async def test_read_mark_never_moves_backwards(people):
    general = people["general"]
    for text in ("a", "b", "c"):
        await post(people["alice"], general.pk, text, uuid.uuid4())
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await bob.send_to(text_data=action("read", seq=3))
    await bob.send_to(text_data=action("read", seq=1))  # an older tab catching up late
    await drain(bob)
    mark = await database_sync_to_async(
        lambda: Membership.objects.get(room=general, user=people["bob"]).last_read_seq
    )()
    assert mark == 3
    await bob.disconnect()


async def test_presence_counts_a_person_once_across_tabs_and_drops_them_after_the_last_tab(people):
    general = people["general"]
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    bob1, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    bob2, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    frame = (await frames_until(alice, "Here now: alice, bob"))[-1]
    assert frame.count("bob") == 1
    assert await presence.online_in_room(general.pk) == ["alice", "bob"]

    await bob1.disconnect()
    await asyncio.sleep(0.8)
    assert await presence.online_in_room(general.pk) == ["alice", "bob"]  # one tab left
    await bob2.disconnect()
    # Within about a second of the last tab closing, the room's online list no longer names bob.
    await frames_until(alice, "Here now: alice</div>", timeout=3)
    assert await presence.online_in_room(general.pk) == ["alice"]
    await alice.disconnect()


async def test_presence_entries_of_a_crashed_worker_expire(people):
    general = people["general"]
    ghost = presence.Entry("specific.dead-worker!abc", people["carol"].pk, "carol").encode()
    keys = [presence.room_key(general.pk), presence.user_key(people["carol"].pk)]
    await presence.store.touch(keys, ghost)
    assert await presence.online_in_room(general.pk) == ["carol"]
    # Its worker died: nobody heartbeats it. Once its time is up it no longer counts, and pruning removes it.
    await presence.store.touch(keys, ghost, ttl=-1)
    assert await presence.online_in_room(general.pk) == []
    assert await presence.online_users([people["carol"].pk]) == set()
    assert await presence.store.prune_many([presence.room_key(general.pk)]) == [1]


async def test_online_dot_reaches_dm_partners_when_someone_comes_and_goes(people):
    await database_sync_to_async(services.direct_room)(people["alice"], people["bob"])
    alice, _ = await open_socket(people["alice"], "/ws/")
    carol, _ = await open_socket(people["carol"], "/ws/")
    bob, _ = await open_socket(people["bob"], "/ws/")
    bob_id = people["bob"].pk
    online = (await frames_until(alice, f"dot-u-{bob_id}"))[-1]
    assert "dot online" in online.split(f"dot-u-{bob_id}")[0] or f'class="dot dot-u-{bob_id} online"' in online
    await bob.disconnect()
    offline = (await frames_until(alice, f'class="dot dot-u-{bob_id}"'))[-1]
    assert "online" not in offline.split("title=")[0]
    assert await never_sees(carol, f"dot-u-{bob_id}")  # carol has no conversation with bob
    await alice.disconnect()
    await carol.disconnect()


async def test_a_rooms_members_panel_shows_its_members_come_online_and_go(people):
    general, carol_id, mod_id = people["general"], people["carol"].pk, people["mod"].pk
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    # bob reads Elsewhere without being in it: its panel lists carol only.
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{people['elsewhere'].pk}/")
    carol, _ = await open_socket(people["carol"], "/ws/")  # online, with no room open
    for page in (alice, bob):
        frame = (await frames_until(page, f'class="dot dot-u-{carol_id} online"'))[-1]
        assert frame.count(f"dot-u-{carol_id}") == 2  # the dot and where it goes, in one frame
    mod, _ = await open_socket(people["mod"], "/ws/")  # in no room: nobody's panel shows him
    await carol.disconnect()
    await frames_until(alice, f'class="dot dot-u-{carol_id}" hx-swap-oob', timeout=3)  # offline
    assert await never_sees(alice, f"dot-u-{mod_id}")
    for comm in (alice, bob, mod):
        await comm.disconnect()


async def test_typing_and_who_is_here_name_people_by_their_display_name(people):
    from accounts.models import Profile  # the accounts app supplies the rule (rooms.naming)

    await database_sync_to_async(Profile.objects.create)(user=people["bob"], display_name="Bob | Builder")
    general = people["general"]
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await frames_until(alice, "Here now: alice, Bob | Builder")
    await bob.send_to(text_data=action("typing"))
    await frames_until(alice, "Bob | Builder is typing…")
    for comm in (alice, bob):
        await comm.disconnect()


async def test_typing_reaches_others_in_the_room_and_not_the_typist(people):
    general = people["general"]
    alice1, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    alice2, _ = await open_socket(people["alice"], "/ws/")
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    # Carol is a member of the room but looking at another one: typing is for screens showing the room.
    carol_elsewhere, _ = await open_socket(people["carol"], f"/ws/rooms/{people['elsewhere'].pk}/")
    for comm in (alice1, alice2, bob, carol_elsewhere):
        await drain(comm, quiet=0.8)  # presence frames

    await alice1.send_to(text_data=action("typing"))
    frame = (await frames_until(bob, "is typing"))[-1]
    assert f'id="typing-{general.pk}-{people["alice"].pk}"' in frame and "alice is typing…" in frame
    for comm in (alice1, alice2, carol_elsewhere):
        assert await never_sees(comm, "is typing")
    for comm in (alice1, alice2, bob, carol_elsewhere):
        await comm.disconnect()


async def test_author_edits_and_deletes_live_for_everyone(people):
    general = people["general"]
    message = (await post(people["alice"], general.pk, "helo", uuid.uuid4())).message
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")

    await alice.send_to(text_data=action("edit", message_id=message.pk, body="hello"))
    edited = (await frames_until(bob, "(edited)"))[-1]
    assert f'id="msg-{message.pk}"' in edited and ">hello<" in edited

    await alice.send_to(text_data=action("delete", message_id=message.pk))
    gone = (await frames_until(bob, "message deleted"))[-1]
    assert f'id="msg-{message.pk}" class="message deleted"' in gone and "hello" not in gone
    assert await visible_bodies(general) == []
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize("attempt", ["edit", "delete"])
async def test_nobody_edits_or_deletes_another_users_message(people, attempt):
    general = people["general"]
    message = (await post(people["alice"], general.pk, "mine", uuid.uuid4())).message
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await drain(bob)
    await bob.send_to(text_data=action(attempt, message_id=message.pk, body="hacked"))
    reply = (await frames_until(bob, 'data-ok="0"'))[-1]
    assert "You can only change your own messages." in reply
    refreshed = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert refreshed.body == "mine" and refreshed.deleted_at is None and refreshed.edited_at is None
    await bob.disconnect()


async def test_a_message_in_a_room_someone_cannot_see_cannot_be_touched(people):
    dm = await database_sync_to_async(services.direct_room)(people["alice"], people["bob"])
    message = (await post(people["alice"], dm.pk, "private", uuid.uuid4())).message
    carol, _ = await open_socket(people["carol"], f"/ws/rooms/{people['elsewhere'].pk}/")
    await drain(carol)
    await carol.send_to(text_data=action("delete", message_id=message.pk))
    assert "no longer exists" in (await frames_until(carol, 'data-ok="0"'))[-1]
    await carol.send_to(text_data=action("edit", message_id="not a number", body="x"))
    assert "could not be read" in (await frames_until(carol, 'data-ok="0"'))[-1]
    assert (await database_sync_to_async(Message.objects.get)(pk=message.pk)).deleted_at is None
    await carol.disconnect()


async def test_a_moderator_deletes_anyones_message_from_the_page(people):
    general = people["general"]
    message = (await post(people["bob"], general.pk, "spam", uuid.uuid4())).message

    mod = people["mod"]
    mod_tab, _ = await open_socket(mod, f"/ws/rooms/{general.pk}/")
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    await mod_tab.send_to(text_data=action("delete", message_id=message.pk))
    await frames_until(alice, f'id="msg-{message.pk}" class="message deleted"')
    refreshed = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert refreshed.deleted_by_id == mod.pk
    # A moderator may delete but not rewrite someone else's words.
    other = (await post(people["bob"], general.pk, "keep", uuid.uuid4())).message
    await mod_tab.send_to(text_data=action("edit", message_id=other.pk, body="rewritten"))
    assert "only change your own" in (await frames_until(mod_tab, 'data-ok="0"'))[-1]
    await mod_tab.disconnect()
    await alice.disconnect()


async def test_unknown_action_gets_an_error(people):
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{people['general'].pk}/")
    await bob.send_to(text_data=action("launch_missiles"))
    assert "could not be read" in (await frames_until(bob, 'data-ok="0"'))[-1]
    await bob.disconnect()


async def test_a_moderator_whose_right_is_revoked_cannot_delete_on_an_open_socket(people):
    general = people["general"]
    first, second = [(await post(people["bob"], general.pk, t, uuid.uuid4())).message for t in ("a", "b")]

    mod = people["mod"]
    tab, _ = await open_socket(mod, f"/ws/rooms/{general.pk}/")
    await tab.send_to(text_data=action("delete", message_id=first.pk))
    await frames_until(tab, f'id="msg-{first.pk}" class="message deleted"')
    await database_sync_to_async(lambda: mod.groups.clear())()  # out of the Moderators group
    await tab.send_to(text_data=action("delete", message_id=second.pk))
    assert "only change your own" in (await frames_until(tab, 'data-ok="0"'))[-1]
    assert (await database_sync_to_async(Message.objects.get)(pk=second.pk)).deleted_at is None
    await tab.disconnect()


async def test_a_frame_from_a_session_that_ended_closes_the_socket_and_stores_nothing(people, monkeypatch):
    from django.contrib.sessions.models import Session

    from rooms import consumers

    monkeypatch.setattr(consumers, "AUTH_RECHECK", 0)  # the re-check interval has passed
    general = people["general"]
    tab, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    await database_sync_to_async(Session.objects.all().delete)()  # expired, or ended elsewhere
    await tab.send_to(text_data=send_frame("after my session ended"))
    assert await closed_with(tab) == 4401
    assert not await database_sync_to_async(Message.objects.filter(body="after my session ended").exists)()


async def test_a_password_change_anywhere_sends_every_page_to_reconnect(people):
    tab, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{people['general'].pk}/")

    def change_password():  # as the admin form or manage.py changepassword does
        people["alice"].set_password("a-brand-new-secret")
        people["alice"].save()

    await database_sync_to_async(change_password)()
    assert await closed_with(tab) == 1012  # it comes back if its session is still valid, else gets 4401
    # Reconnecting with the old session now fails: it was signed out by the new password.
    again, _ = await open_socket_with_cookie(tab)
    assert await closed_with(again) == 4401
    assert await stays_open(bob)  # bob is untouched
    await bob.disconnect()


async def test_a_socket_that_only_listens_is_closed_once_its_session_ends(people, monkeypatch):
    from django.contrib.sessions.models import Session

    from realtime import hub

    monkeypatch.setattr(presence, "HEARTBEAT", 0.2)
    monkeypatch.setattr(hub, "LISTEN_RECHECK", 0)
    tab, _ = await open_socket(people["alice"], f"/ws/rooms/{people['general'].pk}/")
    await database_sync_to_async(Session.objects.all().delete)()  # it expired
    assert await closed_with(tab) == 4401


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (send_frame("nul \x00 byte"), "cannot be sent (NUL)"),
        (action("edit", message_id="²", body="x"), "could not be read"),
        (action("delete", message_id=2**70), "could not be read"),
        (action("read", seq="9" * 40), "could not be read"),
    ],
)
async def test_odd_values_get_an_error_not_a_crash(people, frame, error):
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{people['general'].pk}/")
    await drain(bob)
    await bob.send_to(text_data=frame)
    assert error in (await frames_until(bob, 'data-ok="0"'))[-1]
    await bob.send_to(text_data=send_frame("still fine"))
    await frames_until(bob, "still fine")
    await bob.disconnect()


async def test_catch_up_brings_the_online_dots_of_dm_partners(people):
    await database_sync_to_async(services.direct_room)(people["alice"], people["bob"])
    bob, _ = await open_socket(people["bob"], "/ws/")
    alice, _ = await open_socket(people["alice"], "/ws/")
    await alice.send_to(text_data=action("catch_up", after=0))
    snapshot = (await frames_until(alice, f"dot-u-{people['bob'].pk}"))[-1]
    assert f'class="dot dot-u-{people["bob"].pk} online"' in snapshot
    await alice.disconnect()
    await bob.disconnect()
