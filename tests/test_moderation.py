"""Moderation: the Moderators group, removals, bans, mutes, locks, reports and the audit trail.

Live effects are checked over the real channels-redis layer (sockets as in test_consumers), admin through the
Django test client as a staff moderator who is not a superuser.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from accounts.backends import ModelBackend
from chatsite.asgi import application
from moderation import services as moderation
from moderation.models import Ban, ModerationLog, Report
from rooms import access, services
from rooms.models import Message, Mute, Reaction, Room

from .helpers import (
    ORIGIN,
    closed_with,
    drain,
    frames_until,
    make_user,
    never_sees,
    open_socket,
    open_socket_with_cookie,
    send_frame,
    stays_open,
)
from .support.moderation import PASSWORD, action, live, logged, make_moderator, post, room_change_form, signed_in

Action = ModerationLog.Action


@pytest.fixture
def queue(people):
    """alice's reported message in General among others, reported by bob and carol, and a staff moderator."""
    alice, bob, carol, general, elsewhere = (people[k] for k in ("alice", "bob", "carol", "general", "elsewhere"))
    before = post(bob, general, "what do you all think?")
    reported = post(alice, general, "buy cheap watches at example.com")
    also_hers = post(alice, general, "really cheap")
    after = post(bob, general, "please stop")
    hers_elsewhere = post(alice, elsewhere, "hello elsewhere")
    moderation.report_message(bob, reported.pk, "spam")
    moderation.report_message(carol, reported.pk, "advertising")
    return {
        **people,
        "reported": reported, "also_hers": also_hers, "hers_elsewhere": hers_elsewhere, "before": before,
        "after": after, "report": Report.objects.get(message=reported, reporter=bob),
    }  # fmt: skip


# ---- the Moderators group ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_moderators_group_exists_after_migrate_with_exactly_the_moderation_permissions():
    group = Group.objects.get(name="Moderators")  # made by the migration, not by this test
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted == {
        "rooms.view_message", "rooms.delete_message", "rooms.view_room", "rooms.change_room",
        "moderation.view_ban", "moderation.add_ban", "moderation.change_ban",
        "rooms.view_mute", "rooms.add_mute", "rooms.change_mute", "rooms.delete_mute",
        "moderation.view_report", "moderation.change_report", "moderation.view_moderationlog", "auth.view_user",
    }  # fmt: skip


def every(model) -> list[int]:
    return list(model.objects.values_list("pk", flat=True))


def admin_requests(q: dict) -> list[tuple[str, str, object]]:
    """Each moderation step in admin: (method, url, data), data made when the step runs (it may select rows
    an earlier step made)."""
    in_two_days = timezone.now() + dt.timedelta(days=2)
    return [
        ("get", "/admin/moderation/report/", dict),
        ("get", f"/admin/moderation/report/{q['report'].pk}/change/", dict),
        ("get", "/admin/moderation/moderationlog/", dict),
        ("get", "/admin/autocomplete/?app_label=moderation&model_name=ban&field_name=user&term=ali", dict),
        ("post", f"/admin/rooms/message/{q['before'].pk}/delete/", lambda: {"post": "yes"}),
        ("post", "/admin/rooms/message/", lambda: {
            "action": "remove_all_by_author", "_selected_action": [q["hers_elsewhere"].pk],
        }),
        ("post", "/admin/rooms/room/", lambda: {"action": "unlock_rooms", "_selected_action": [q["general"].pk]}),
        ("post", "/admin/rooms/room/", lambda: {"action": "lock_rooms", "_selected_action": [q["general"].pk]}),
        ("post", "/admin/rooms/mute/add/", lambda: {
            "room": q["general"].pk, "user": q["bob"].pk, "until_0": f"{in_two_days:%Y-%m-%d}",
            "until_1": "12:00:00", "reason": "calm down",
        }),
        ("post", "/admin/rooms/mute/", lambda: {"action": "unmute", "_selected_action": every(Mute)}),
        ("post", "/admin/moderation/ban/add/", lambda: {"user": q["carol"].pk, "reason": "trolling"}),
        ("post", "/admin/moderation/ban/", lambda: {"action": "lift", "_selected_action": every(Ban)}),
        ("post", f"/admin/moderation/report/{q['report'].pk}/change/", lambda: {"_dismiss": "Dismiss", "note": "fine"}),
    ]  # fmt: skip


def test_a_staff_moderator_moderates_in_admin_without_being_a_superuser(queue):
    client = signed_in(queue["mod"])
    assert not queue["mod"].is_superuser
    for method, url, data in admin_requests(queue):
        response = getattr(client, method)(url, data())
        assert response.status_code in {200, 302}, (url, response.status_code)
        assert "errornote" not in response.content.decode(), url
    # Each step did its thing.
    assert Message.objects.get(pk=queue["before"].pk).is_deleted
    assert Message.objects.get(pk=queue["hers_elsewhere"].pk).is_deleted
    assert not Message.objects.get(pk=queue["reported"].pk).is_deleted  # only her messages in that room
    assert Room.objects.get(pk=queue["general"].pk).locked
    assert not Mute.objects.exists() and logged(Action.MUTE) and logged(Action.UNMUTE)
    ban = Ban.objects.get(user=queue["carol"])
    assert ban.reason == "trolling" and ban.lifted_by == queue["mod"] and logged(Action.LIFT_BAN)
    assert Report.objects.get(pk=queue["report"].pk).resolution == Report.Resolution.DISMISSED


def test_a_staff_member_outside_the_group_gets_403_for_every_moderation_step(queue):
    client = signed_in(make_user("clerk", is_staff=True))
    for method, url, data in admin_requests(queue):
        assert getattr(client, method)(url, data()).status_code == 403, url
    assert not Message.objects.filter(deleted_at__isnull=False).exists()
    assert not Room.objects.get(pk=queue["general"].pk).locked
    assert not Ban.objects.exists() and not Mute.objects.exists() and not ModerationLog.objects.exists()
    assert Report.objects.get(pk=queue["report"].pk).is_open


def test_a_moderator_may_lock_a_room_but_not_rename_it(queue):
    page = signed_in(queue["mod"]).get(f"/admin/rooms/room/{queue['general'].pk}/change/").content.decode()
    assert 'name="locked"' in page and 'name="name"' not in page and 'name="description"' not in page


# ---- removing messages ---------------------------------------------------------------------------------


@live
async def test_a_moderators_removal_reaches_every_screen_including_the_authors_other_tab(people):
    general = people["general"]
    message = await database_sync_to_async(post)(people["alice"], general, "something regrettable")
    alice_room, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    alice_other_tab, _ = await open_socket(people["alice"], "/ws/")  # the room list, in another tab
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    outsider = await database_sync_to_async(make_user)("dave")
    dave, _ = await open_socket(outsider, "/ws/")
    mod, _ = await open_socket(people["mod"], f"/ws/rooms/{general.pk}/")

    await mod.send_to(text_data=action("delete", message_id=message.pk))

    for comm in (alice_room, alice_other_tab, bob, mod):
        frame = (await frames_until(comm, f'id="msg-{message.pk}"'))[-1]
        assert f'id="msg-{message.pk}" class="message deleted"' in frame and "regrettable" not in frame
    assert await never_sees(dave, f'id="msg-{message.pk}"')
    assert await database_sync_to_async(logged)(
        Action.REMOVE, actor=people["mod"], target_user=people["alice"], message_id=message.pk
    )
    for comm in (alice_room, alice_other_tab, bob, dave, mod):
        await comm.disconnect()


@live
async def test_removing_all_of_someones_messages_in_a_room_is_one_live_frame_per_room(people):
    general, elsewhere, alice = people["general"], people["elsewhere"], people["alice"]
    write = database_sync_to_async(post)
    hers = [await write(alice, general, f"spam {n}") for n in range(3)]
    bobs = await write(people["bob"], general, "not spam")
    hers_elsewhere = await write(alice, elsewhere, "fine over here")
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    carol_elsewhere, _ = await open_socket(people["carol"], f"/ws/rooms/{elsewhere.pk}/")

    def remove_all_in_admin():
        return signed_in(people["mod"]).post(
            "/admin/rooms/message/", {"action": "remove_all_by_author", "_selected_action": [hers[1].pk]}
        )

    assert (await sync_to_async(remove_all_in_admin)()).status_code == 302
    frames = await frames_until(bob, "message deleted")
    frames += await drain(bob)
    tombstones = [f for f in frames if "message deleted" in f]
    assert len(tombstones) == 1  # one frame for the room, with every removed message in it
    for message in hers:
        assert f'id="msg-{message.pk}" class="message deleted"' in tombstones[0]
    assert f'id="msg-{bobs.pk}"' not in tombstones[0]
    assert await never_sees(carol_elsewhere, f'id="msg-{hers_elsewhere.pk}"')  # her words in other rooms stay

    def check_the_record():
        assert not Message.objects.get(pk=bobs.pk).is_deleted
        assert not Message.objects.get(pk=hers_elsewhere.pk).is_deleted
        entry = ModerationLog.objects.get(action=Action.REMOVE_ALL)
        assert (entry.actor, entry.target_user, entry.room_id) == (people["mod"], alice, general.pk)
        assert entry.details == "3 messages removed"
        # The tombstones took consecutive change numbers, so a page that missed the frame catches up on them.
        changed = sorted(Message.objects.filter(pk__in=[m.pk for m in hers]).values_list("changed_seq", flat=True))
        assert (
            changed == list(range(changed[0], changed[0] + 3))
            and Room.objects.get(pk=general.pk).last_seq == changed[-1]
        )

    await database_sync_to_async(check_the_record)()
    await bob.disconnect()
    await carol_elsewhere.disconnect()


@live
async def test_a_bulk_removal_across_rooms_sends_each_room_one_frame(people):
    general, elsewhere, alice = people["general"], people["elsewhere"], people["alice"]
    write = database_sync_to_async(post)
    await database_sync_to_async(services.join)(alice, elsewhere)
    in_general = [await write(alice, general, f"g{n}") for n in range(2)]
    in_elsewhere = [await write(alice, elsewhere, f"e{n}") for n in range(2)]
    alice_tab, _ = await open_socket(alice, "/ws/")  # follows both rooms

    await database_sync_to_async(services.delete_messages)(Message.objects.filter(author=alice), alice)

    frames = await frames_until(alice_tab, "message deleted") + await drain(alice_tab)
    tombstones = [f for f in frames if "message deleted" in f]
    assert len(tombstones) == 2
    by_room = {room.pk: next(f for f in tombstones if f'id="messages-{room.pk}"' in f) for room in (general, elsewhere)}
    for room, messages in ((general, in_general), (elsewhere, in_elsewhere)):
        assert all(f'id="msg-{m.pk}" class="message deleted"' in by_room[room.pk] for m in messages)
    await alice_tab.disconnect()


# ---- bans ----------------------------------------------------------------------------------------------


def allauth_login(username: str) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    return client


async def socket_with_session(session_key: str, path: str) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, path, headers=[ORIGIN, (b"cookie", f"sessionid={session_key}".encode())])
    connected, _ = await comm.connect()
    assert connected
    return comm


@live
async def test_a_ban_ends_sessions_closes_sockets_within_a_second_and_holds_until_lifted(people):
    from allauth.usersessions.models import UserSession

    general, alice = people["general"], people["alice"]
    login = await sync_to_async(allauth_login)("alice")  # allauth records this session
    session_key = login.cookies["sessionid"].value
    assert await database_sync_to_async(UserSession.objects.filter(user=alice, session_key=session_key).exists)()
    page = await socket_with_session(session_key, f"/ws/rooms/{general.pk}/")
    other_device, _ = await open_socket(alice, "/ws/")  # a session allauth never saw
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    until = timezone.now() + dt.timedelta(days=2)

    def ban_in_admin():
        return signed_in(people["mod"]).post(
            "/admin/moderation/ban/add/",
            {"user": alice.pk, "reason": "Spamming links", "until_0": f"{until:%Y-%m-%d}", "until_1": f"{until:%H:%M}"},
        )

    started = time.monotonic()
    assert (await sync_to_async(ban_in_admin)()).status_code == 302
    assert await closed_with(page, timeout=1) == 4403
    assert await closed_with(other_device, timeout=1) == 4403
    assert time.monotonic() - started < 1.5  # the admin request itself included
    assert await stays_open(bob)  # nobody else is closed

    # The recorded session is gone; the one allauth never saw is refused by the backend.
    assert not await database_sync_to_async(Session.objects.filter(session_key=session_key).exists)()
    for old_cookie in (page, other_device):  # the pages reconnecting with the cookies they had
        again, connected = await open_socket_with_cookie(old_cookie)
        assert connected and await closed_with(again) == 4401

    refused = Client()
    response = await sync_to_async(refused.post)("/accounts/login/", {"login": "alice", "password": PASSWORD})
    text = f"Your account is suspended until {until:%Y-%m-%d %H:%M} UTC. Reason: Spamming links"
    assert response.status_code == 200 and text in response.content.decode()
    assert (await sync_to_async(refused.get)("/")).status_code == 302  # not signed in
    assert await database_sync_to_async(logged)(
        Action.BAN, actor=people["mod"], target_user=alice, reason="Spamming links"
    )

    def lift_in_admin():
        ban = Ban.objects.get(user=alice)
        return signed_in(people["mod"]).post("/admin/moderation/ban/", {"action": "lift", "_selected_action": [ban.pk]})

    assert (await sync_to_async(lift_in_admin)()).status_code == 302
    welcome = await sync_to_async(allauth_login)("alice")
    assert (await sync_to_async(welcome.get)("/")).status_code == 200
    back, connected = await open_socket(alice, f"/ws/rooms/{general.pk}/")
    assert connected and await never_sees(back, "websocket.close")
    assert await database_sync_to_async(logged)(Action.LIFT_BAN, actor=people["mod"], target_user=alice)
    for comm in (bob, back):
        await comm.disconnect()


@live
async def test_signing_out_other_sessions_on_the_sessions_page_closes_their_sockets(people):
    # allauth.usersessions (installed for bans) gives people this page; it ends sessions without a logout.
    laptop, phone = [await sync_to_async(allauth_login)("alice") for _ in range(2)]
    laptop_tab = await socket_with_session(laptop.cookies["sessionid"].value, "/ws/")
    phone_tab = await socket_with_session(phone.cookies["sessionid"].value, "/ws/")
    assert (await sync_to_async(laptop.post)("/accounts/sessions/")).status_code == 302  # "sign out the others"
    assert await closed_with(phone_tab, timeout=1) == 4401
    assert await stays_open(laptop_tab)
    await laptop_tab.disconnect()


@pytest.mark.django_db
def test_an_expired_ban_lets_the_person_log_in_again(alice):
    ban = Ban.objects.create(user=alice, reason="cool off", until=timezone.now() + dt.timedelta(hours=1))
    response = Client().post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert "Your account is suspended until" in response.content.decode()
    ban.until = timezone.now() - dt.timedelta(seconds=1)
    ban.save()
    client = allauth_login("alice")
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_a_banned_account_is_refused_on_every_request_in_one_query(alice):
    client = signed_in(alice)  # a session made before the ban, and never ended
    assert client.get("/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert ModelBackend().get_user(alice.pk) == alice
    assert len(queries) == 1
    Ban.objects.create(user=alice)
    with CaptureQueriesContext(connection) as queries:
        assert ModelBackend().get_user(alice.pk) is None
    assert len(queries) == 1
    assert client.get("/").status_code == 302  # signed out
    # (Admin has no login form of its own any more: /admin/login/ is allauth's, refused as above.)


def test_a_moderator_cannot_ban_themselves_or_staff(queue):
    client = signed_in(queue["mod"])
    other_staff = make_user("helper", is_staff=True)
    for user, error in ((queue["mod"], "You can't ban yourself."), (other_staff, "Only a superuser can ban")):
        page = client.post("/admin/moderation/ban/add/", {"user": user.pk, "reason": "x"}).content.decode()
        assert escape(error) in page
    assert not Ban.objects.exists()


# ---- mutes ---------------------------------------------------------------------------------------------


@live
async def test_a_muted_person_reads_but_cannot_write_until_the_mute_ends(people):
    general, elsewhere, bob = people["general"], people["elsewhere"], people["bob"]
    earlier = await database_sync_to_async(post)(bob, general, "before the mute")
    until = timezone.now() + dt.timedelta(hours=3)
    await database_sync_to_async(moderation.mute)(people["mod"], general, bob, until, "Cool down")
    bob_here, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    bob_there, _ = await open_socket(bob, f"/ws/rooms/{elsewhere.pk}/")

    client_id = str(uuid.uuid4())
    await bob_here.send_to(text_data=send_frame("let me speak", client_id))
    reply = (await frames_until(bob_here, f'data-client-id="{client_id}"'))[-1]
    assert 'data-ok="0"' in reply
    assert f"You are muted in #General until {until:%Y-%m-%d %H:%M} UTC. Reason: Cool down" in reply
    await bob_here.send_to(text_data=action("edit", message_id=earlier.pk, body="edited", client_id="edit-1"))
    assert "You are muted in #General" in (await frames_until(bob_here, 'data-client-id="edit-1"'))[-1]
    assert await database_sync_to_async(
        lambda: list(Message.objects.filter(author=bob).values_list("body", flat=True))
    )() == ["before the mute"]

    # Reading still works, and other rooms are not affected.
    await database_sync_to_async(post)(people["alice"], general, "you can still read this")
    await frames_until(bob_here, "you can still read this")
    await bob_there.send_to(text_data=send_frame("hello elsewhere"))
    await frames_until(bob_there, "hello elsewhere")

    # Once the mute is over, sends go through again.
    await database_sync_to_async(Mute.objects.update)(until=timezone.now() - dt.timedelta(seconds=1))
    await bob_here.send_to(text_data=send_frame("I'm back"))
    await frames_until(bob_here, "I'm back")
    await bob_here.disconnect()
    await bob_there.disconnect()


@pytest.mark.django_db
def test_a_send_is_one_sql_statement_and_only_a_refusal_asks_why(alice, bob):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement send is PostgreSQL's")
    room = services.create_room(alice, "General")
    services.join(bob, room)

    def statements(fn) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            try:
                fn()
            except services.ChatError:
                pass
        return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]

    assert len(statements(lambda: post(bob, room, "hi"))) == 1
    Mute.objects.create(room=room, user=bob, until=timezone.now() + dt.timedelta(hours=1))
    assert len(statements(lambda: post(bob, room, "still here?"))) == 2  # the statement, then why it refused
    assert list(room.messages.values_list("body", flat=True)) == ["hi"]


# ---- locks ---------------------------------------------------------------------------------------------


@live
async def test_a_locked_room_is_read_only_for_members_live_while_moderators_still_write(people):
    general, bob = people["general"], people["bob"]
    own = await database_sync_to_async(post)(bob, general, "my words")
    bob_tab, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    mod_tab, _ = await open_socket(people["mod"], f"/ws/rooms/{general.pk}/")
    mod_client = await sync_to_async(signed_in)(people["mod"])

    response = await sync_to_async(mod_client.post)(
        "/admin/rooms/room/", {"action": "lock_rooms", "_selected_action": [general.pk]}
    )
    assert response.status_code == 302
    frame = (await frames_until(bob_tab, f'id="room-state-{general.pk}"'))[-1]
    assert 'data-locked="1"' in frame and str(access.LOCKED) in frame

    client_id = str(uuid.uuid4())
    await bob_tab.send_to(text_data=send_frame("can I still talk?", client_id))
    reply = (await frames_until(bob_tab, f'data-client-id="{client_id}"'))[-1]
    assert 'data-ok="0"' in reply and str(access.LOCKED) in reply
    await bob_tab.send_to(text_data=action("edit", message_id=own.pk, body="rewritten", client_id="edit-2"))
    assert str(access.LOCKED) in (await frames_until(bob_tab, 'data-client-id="edit-2"'))[-1]
    await mod_tab.send_to(text_data=send_frame("moderators may speak"))
    await frames_until(bob_tab, "moderators may speak")
    bodies = await database_sync_to_async(lambda: set(general.messages.values_list("body", flat=True)))()
    assert bodies == {"my words", "moderators may speak"}

    # A page that reconnects learns the lock from its catch-up.
    await bob_tab.send_to(text_data=action("catch_up", after=0))
    assert 'data-locked="1"' in (await frames_until(bob_tab, f'id="room-state-{general.pk}"'))[-1]

    # Unticking "locked" on the room's admin page unlocks it, live.
    form = await database_sync_to_async(room_change_form)(general)
    response = await sync_to_async(mod_client.post)(f"/admin/rooms/room/{general.pk}/change/", form)
    assert response.status_code == 302
    assert 'data-locked="0"' in (await frames_until(bob_tab, f'id="room-state-{general.pk}"'))[-1]
    await bob_tab.send_to(text_data=send_frame("free again"))
    await frames_until(bob_tab, "free again")
    for name in (Action.LOCK, Action.UNLOCK):
        assert await database_sync_to_async(logged)(name, actor=people["mod"], room=general)
    await bob_tab.disconnect()
    await mod_tab.disconnect()


@pytest.mark.django_db
def test_a_locked_room_page_says_so(alice, bob):
    room = services.create_room(alice, "General")
    Room.objects.filter(pk=room.pk).update(locked=True)
    page = signed_in(bob).get("/rooms/general/").content.decode()
    assert f'id="room-state-{room.pk}" class="room-state" data-locked="1"' in page and str(access.LOCKED) in page
    assert 'data-moderator="1"' not in page  # so the stylesheet hides bob's composer


# ---- reports -------------------------------------------------------------------------------------------


@live
async def test_reporting_over_the_socket_stores_one_report_per_person_and_message(people):
    general, alice, bob, carol = people["general"], people["alice"], people["bob"], people["carol"]
    message = await database_sync_to_async(post)(alice, general, "rude words")
    own = await database_sync_to_async(post)(bob, general, "mine")
    dm = await database_sync_to_async(services.direct_room)(alice, carol)
    private = await database_sync_to_async(post)(alice, dm, "between alice and carol")
    bob_tab, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")

    async def report(message_id: int, reason: str) -> str:
        client_id = f"report-{uuid.uuid4()}"
        await bob_tab.send_to(text_data=action("report", message_id=message_id, reason=reason, client_id=client_id))
        return (await frames_until(bob_tab, f'data-client-id="{client_id}"'))[-1]

    reply = await report(message.pk, "insulting")
    assert 'data-ok="1"' in reply and "Thanks, a moderator will review it." in reply
    reply = await report(message.pk, "insulting, and again")
    assert 'data-ok="1"' in reply
    reports = await database_sync_to_async(lambda: list(Report.objects.values_list("message", "reporter", "reason")))()
    assert reports == [(message.pk, bob.pk, "insulting, and again")]

    for message_id, reason, error in (
        (own.pk, "me", "You can't report your own message."),
        (private.pk, "peeking", "That message no longer exists."),
        (message.pk, "   ", "Please say what is wrong with this message."),
        (message.pk, "x" * 501, "The reason is too long: 501 characters (the limit is 500)."),
    ):
        reply = await report(message_id, reason)
        assert 'data-ok="0"' in reply and error.replace("'", "&#x27;") in reply
    assert await database_sync_to_async(Report.objects.count)() == 1
    await bob_tab.disconnect()


@pytest.mark.parametrize(
    ("button", "resolution", "logs"),
    [
        ("_remove", Report.Resolution.REMOVED, {Action.REMOVE, Action.RESOLVE}),
        ("_remove_all", Report.Resolution.REMOVED_ALL, {Action.REMOVE_ALL, Action.RESOLVE}),
        ("_mute", Report.Resolution.MUTED, {Action.MUTE, Action.RESOLVE}),
        ("_ban", Report.Resolution.BANNED, {Action.BAN, Action.RESOLVE}),
        ("_dismiss", Report.Resolution.DISMISSED, {Action.DISMISS}),
    ],
)
def test_each_button_on_a_report_acts_resolves_its_reports_and_is_logged(queue, button, resolution, logs):
    response = signed_in(queue["mod"]).post(
        f"/admin/moderation/report/{queue['report'].pk}/change/", {button: "go", "note": "house rules", "ban_days": "7"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/moderation/report/"
    # Both people's reports about the message are resolved, by the moderator.
    assert set(Report.objects.values_list("resolution", "resolved_by")) == {(resolution, queue["mod"].pk)}
    assert set(ModerationLog.objects.values_list("action", flat=True)) == logs
    assert all(e.actor == queue["mod"] and e.reason == "house rules" for e in ModerationLog.objects.all())
    alice = queue["alice"]
    removed = set(Message.objects.filter(deleted_at__isnull=False).values_list("pk", flat=True))
    expected_removed = {
        "_remove": {queue["reported"].pk},
        "_remove_all": {queue["reported"].pk, queue["also_hers"].pk},  # not her message in another room
    }.get(button, set())
    assert removed == expected_removed
    mute = Mute.objects.filter(user=alice, room=queue["general"]).first()
    if button == "_mute":
        assert abs(mute.until - (timezone.now() + dt.timedelta(hours=24))) < dt.timedelta(minutes=1)
    else:
        assert mute is None
    ban = Ban.objects.filter(user=alice).first()
    if button == "_ban":
        assert ban.is_active and abs(ban.until - (timezone.now() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
        assert ban.reason == "house rules"
    else:
        assert ban is None


def test_the_report_queue_lists_open_reports_first_and_acts_from_the_list(queue):
    other = post(queue["carol"], queue["general"], "another bad one")
    dealt_with = moderation.report_message(queue["bob"], other.pk, "old news")
    moderation.act_on_reports(queue["mod"], [dealt_with], "dismiss")
    client = signed_in(queue["mod"])
    page = client.get("/admin/moderation/report/").content.decode()
    assert page.index("buy cheap watches") < page.index("another bad one")  # open before resolved
    row = page[page.index("buy cheap watches") :].split("</tr>")[0]
    assert ">2<" in row and "alice" in row and "General" in row and ("spam" in row or "advertising" in row)

    response = client.post(
        "/admin/moderation/report/", {"action": "remove_message", "_selected_action": [queue["report"].pk]}
    )
    assert response.status_code == 302
    assert Message.objects.get(pk=queue["reported"].pk).is_deleted
    assert not Report.objects.filter(message=queue["reported"], resolved_at__isnull=True).exists()


def test_a_report_shows_the_message_in_context(queue):
    page = signed_in(queue["mod"]).get(f"/admin/moderation/report/{queue['report'].pk}/change/").content.decode()
    context = page[page.index("The message in context") :]
    order = [
        context.index(text) for text in ("what do you all think?", "buy cheap watches", "really cheap", "please stop")
    ]
    assert order == sorted(order)
    assert '<tr class="reported" aria-current="true">' in context
    reported_row = context[context.index('class="reported"') :].split("</tr>")[0]
    assert "buy cheap watches" in reported_row and "<mark>" in reported_row
    for label in moderation.QUEUE_ACTIONS.values():
        assert f'value="{label[0]}"' in page


# ---- the audit trail -----------------------------------------------------------------------------------


def test_every_moderation_action_writes_its_log_row(queue):
    mod, alice, general = queue["mod"], queue["alice"], queue["general"]
    services.delete_message(mod, post(mod, general, "my own").pk)  # not moderation: not logged
    assert not ModerationLog.objects.exists()
    services.delete_message(mod, queue["before"].pk)
    moderation.remove_all_by(mod, alice, general)
    moderation.ban(mod, alice, "spam")
    moderation.lift_bans(mod, Ban.objects.all())
    moderation.mute(mod, general, alice, timezone.now() + dt.timedelta(hours=1))
    moderation.unmute(mod, Mute.objects.all())
    moderation.set_locked(mod, general, True)
    moderation.set_locked(mod, general, False)
    moderation.set_archived(mod, general, True)
    moderation.set_archived(mod, general, False)
    services.set_private(mod, general, True)
    services.set_private(mod, general, False)
    report = moderation.report_message(queue["carol"], queue["after"].pk, "meh")
    moderation.act_on_reports(mod, [report], "dismiss")
    services.react(queue["carol"], queue["after"].pk, "👎", True)
    moderation.remove_reactions(mod, Reaction.objects.all())
    root = make_user("root", is_staff=True, is_superuser=True)  # deleting a room is a superuser's
    moderation.delete_room(root, services.create_room(alice, "Typo"))
    assert set(ModerationLog.objects.values_list("action", flat=True)) == set(Action)
    assert set(ModerationLog.objects.values_list("actor", flat=True)) == {mod.pk, root.pk}


def test_the_moderation_log_is_read_only_and_searchable(queue):
    moderation.ban(queue["mod"], queue["alice"], "spam links")
    client = signed_in(make_user("root", is_staff=True, is_superuser=True))
    page = client.get("/admin/moderation/moderationlog/?q=spam").content.decode()
    assert "spam links" in page and "Banned" in page
    assert (
        client.get(f"/admin/moderation/moderationlog/?action__exact=ban&actor__id__exact={queue['mod'].pk}").status_code
        == 200
    )
    entry = ModerationLog.objects.get()
    assert client.get("/admin/moderation/moderationlog/add/").status_code == 403
    assert client.post(f"/admin/moderation/moderationlog/{entry.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.post(f"/admin/moderation/moderationlog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ModerationLog.objects.get().reason == "spam links"


# ---- privacy -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_direct_messages_reach_admin_only_through_a_report(alice, bob):
    room = services.create_room(alice, "General")
    post(alice, room, "hello everyone")
    private = post(alice, services.direct_room(alice, bob), "my secret plan")
    client = signed_in(make_user("root", is_staff=True, is_superuser=True))
    listing = client.get("/admin/rooms/message/").content.decode()
    assert "hello everyone" in listing and "my secret plan" not in listing
    assert "my secret plan" not in client.get("/admin/rooms/message/?q=secret").content.decode()
    assert client.get(f"/admin/rooms/message/{private.pk}/change/").status_code == 302  # "doesn't exist"

    moderation.report_message(bob, private.pk, "threatening")  # bob shares it with the moderators
    report = Report.objects.get()
    assert "my secret plan" in client.get("/admin/moderation/report/").content.decode()
    assert "my secret plan" in client.get(f"/admin/moderation/report/{report.pk}/change/").content.decode()


@pytest.mark.django_db
def test_a_moderator_does_not_see_who_talks_privately_with_whom(alice, bob):
    """Direct conversations are not in a moderator's room list, search or room autocomplete."""
    services.create_room(alice, "General")
    dm = services.direct_room(alice, bob)
    client = signed_in(make_moderator())
    listing = client.get("/admin/rooms/room/").content.decode()
    assert "General" in listing and dm.direct_key not in listing
    assert "General" not in client.get("/admin/rooms/room/?q=bob").content.decode()  # bob is only in the DM
    assert client.get(f"/admin/rooms/room/{dm.pk}/change/").status_code == 302  # "doesn't exist"
    found = client.get(
        "/admin/autocomplete/", {"app_label": "rooms", "model_name": "mute", "field_name": "room", "term": ""}
    ).json()
    assert [r["text"] for r in found["results"]] == ["General"]


@pytest.mark.django_db
def test_saving_a_room_read_earlier_keeps_its_change_counter(alice):
    """The admin's form saves a room it read before; messages posted meanwhile keep their numbers."""
    room = services.create_room(alice, "General")
    stale = Room.objects.get(pk=room.pk)
    post(alice, room, "one")
    stale.description = "Everything"
    stale.save()
    post(alice, room, "two")  # would collide with "one" on seq 1 if the save had set the counter back
    room.refresh_from_db()
    assert (room.last_seq, room.description) == (2, "Everything")
    assert list(room.messages.order_by("seq").values_list("seq", "body")) == [(1, "one"), (2, "two")]


@pytest.mark.django_db(transaction=True)
def test_an_edit_waiting_behind_a_removal_finds_the_message_gone(people):
    """The removal holds the message row; the author's edit waits for it, then must not bring it back."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite runs one writer at a time anyway)")
    import threading

    from django.db import connections, transaction

    alice, general = people["alice"], people["general"]
    message = post(alice, general, "spam spam")
    removing, edited = threading.Event(), []

    def edit() -> None:
        removing.wait(5)
        try:
            services.edit_message(alice, message.pk, "innocent now")
        except services.ChatError as error:
            edited.append(str(error))
        finally:
            connections.close_all()

    editor = threading.Thread(target=edit)
    editor.start()
    with transaction.atomic():
        services.delete_messages(Message.objects.filter(pk=message.pk), by=people["mod"])
        removing.set()
        time.sleep(0.5)  # the edit is now waiting for the row
    editor.join(10)
    message.refresh_from_db()
    assert edited == ["That message no longer exists."]
    assert message.is_deleted and message.body == "spam spam"


@live
async def test_a_resend_of_a_stored_message_is_acknowledged_even_when_sends_are_refused_now(people):
    """Its acknowledgement was lost, then the person was muted: the page must not put it back to send again."""
    general, bob = people["general"], people["bob"]
    bob_page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    client_id = str(uuid.uuid4())
    await bob_page.send_to(text_data=send_frame("sent before the mute", client_id))
    await frames_until(bob_page, f'data-client-id="{client_id}" data-ok="1"')
    until = timezone.now() + dt.timedelta(hours=1)
    await database_sync_to_async(moderation.mute)(people["mod"], general, bob, until, "")

    await bob_page.send_to(text_data=send_frame("sent before the mute", client_id))  # the page's resend
    assert 'data-ok="1"' in (await frames_until(bob_page, f'data-client-id="{client_id}"'))[-1]
    fresh = str(uuid.uuid4())
    await bob_page.send_to(text_data=send_frame("a new one", fresh))
    assert "You are muted" in (await frames_until(bob_page, f'data-client-id="{fresh}"'))[-1]
    assert await database_sync_to_async(Message.objects.filter(author=bob).count)() == 1
    await bob_page.disconnect()


@live
async def test_a_ban_committed_while_a_socket_joins_still_refuses_it(people, monkeypatch):
    """The ban's close event went out before this worker followed the person's group."""
    from realtime import hub as hubs

    bob, general = people["bob"], people["general"]
    attach = hubs.Hub.attach

    async def attach_then_ban(self, socket, groups):
        await attach(self, groups=groups, socket=socket)
        await database_sync_to_async(Ban.objects.create)(user=bob, reason="spam")  # no close event: too late

    monkeypatch.setattr(hubs.Hub, "attach", attach_then_ban)
    comm, connected = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    assert connected  # accepted, then closed for good: the page does not retry
    assert await closed_with(comm) == 4401


@pytest.mark.django_db
def test_a_moderator_sees_who_people_are_but_not_their_email_addresses(alice):
    client = signed_in(make_moderator())
    listing = client.get("/admin/auth/user/").content.decode()
    assert "alice" in listing and "alice@example.com" not in listing
    found = client.get("/admin/auth/user/?q=alice@example.com").content.decode()
    assert f"/admin/auth/user/{alice.pk}/change/" not in found  # no finding people by their address
    page = client.get(f"/admin/auth/user/{alice.pk}/change/")
    assert page.status_code == 200 and "alice@example.com" not in page.content.decode()
    assert (
        "alice@example.com"
        in signed_in(make_user("root", is_staff=True, is_superuser=True)).get("/admin/auth/user/").content.decode()
    )  # whoever manages accounts still does


@live
async def test_someone_who_may_not_write_is_not_shown_typing(people):
    general, bob = people["general"], people["bob"]
    alice_page, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/")
    bob_page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    await bob_page.send_to(text_data=action("typing"))
    await frames_until(alice_page, "bob is typing")
    until = timezone.now() + dt.timedelta(hours=1)
    await database_sync_to_async(moderation.mute)(people["mod"], general, bob, until, "")
    await asyncio.sleep(1.1)  # past the server's typing throttle
    await bob_page.send_to(text_data=action("typing"))
    assert await never_sees(alice_page, "bob is typing")
    await alice_page.disconnect()
    await bob_page.disconnect()
