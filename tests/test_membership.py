"""Private rooms, membership and group conversations over the real channels-redis layer: who receives what, and
when they stop. Views with the Django test client. (The IDOR sweep, tests/test_idor.py, probes every route and
frame action with a private room and a group conversation.)"""

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from moderation.models import ModerationLog
from rooms import services
from rooms.models import Membership, Room

from .helpers import drain, frames_until, make_user, never_sees, open_socket
from .support.moderation import make_moderator, room_change_form

pytestmark = [pytest.mark.django_db(transaction=True)]

post = database_sync_to_async(services.post_message)
db = database_sync_to_async


def action(name: str, **fields) -> str:
    return json.dumps({"action": name, **fields})


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hideout(alice, bob):
    """alice's private room, bob invited."""
    room = services.create_room(alice, "Hideout", private=True)
    services.invite(alice, room, "bob")
    return room


# ---- removal and privacy stop delivery at once -----------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_removed_member_is_told_and_never_receives_another_frame_of_the_room(alice, bob, hideout):
    on_room, _ = await open_socket(bob, f"/ws/rooms/{hideout.pk}/")
    elsewhere, _ = await open_socket(bob, "/ws/")
    await post(alice, hideout.pk, "before the removal", uuid.uuid4())
    await frames_until(on_room, "before the removal")
    await frames_until(elsewhere, "before the removal")  # his sidebar follows the room too

    await db(services.remove_member)(alice, hideout, bob.pk)
    said = "".join(await frames_until(on_room, "You were removed from #Hideout."))
    assert f'id="room-{hideout.pk}" hx-swap-oob="delete"' in said  # out of the sidebar
    await frames_until(elsewhere, "You were removed from #Hideout.")  # every page of his hears it

    await post(alice, hideout.pk, "after the removal", uuid.uuid4())
    await alice_socket_typing(alice, hideout)
    for socket in (on_room, elsewhere):
        frames = await drain(socket, quiet=0.6)
        assert not any("after the removal" in f or f"typing-{hideout.pk}" in f for f in frames)
    # Nor by asking: a catch-up names nothing of the room, and his page cannot come back to it.
    await on_room.send_to(text_data=action("catch_up", after=0))
    assert await never_sees(on_room, "after the removal")
    again, _ = await open_socket(bob, f"/ws/rooms/{hideout.pk}/")
    assert (await again.receive_output(timeout=3))["code"] == 4404
    for socket in (on_room, elsewhere):
        await socket.disconnect()


async def alice_socket_typing(alice, room) -> None:
    """alice types in the room (a viewers-group frame, as opposed to the room group's messages)."""
    socket, _ = await open_socket(alice, f"/ws/rooms/{room.pk}/")
    await socket.send_to(text_data=action("typing"))
    await drain(socket, quiet=0.2)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_making_a_room_private_stops_everyone_outside_it_at_once(alice, bob):
    carol, mod = await db(make_user)("carol"), await db(make_moderator)()
    general = await db(services.create_room)(alice, "General")
    await db(services.join)(bob, general)
    member, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    looker, _ = await open_socket(carol, f"/ws/rooms/{general.pk}/")  # reading an open room, not in it
    await post(alice, general.pk, "while open", uuid.uuid4())
    await frames_until(looker, "while open")

    await db(services.set_private)(mod, general, True)
    await frames_until(looker, "#General is now private: only its members can read it.")
    await post(alice, general.pk, "members only now", uuid.uuid4())
    await frames_until(member, "members only now")  # members keep it
    assert await never_sees(looker, "members only now")
    assert await never_sees(member, "is now private")  # and are not told they lost it
    assert await db(lambda: client_of(carol).get("/rooms/general/").status_code)() == 404
    assert await db(lambda: ModerationLog.objects.filter(action="make_private", room=general).count())() == 1
    for socket in (member, looker):
        await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_an_invited_person_hears_of_it_live_and_follows_the_room(alice, bob):
    carol = await db(make_user)("carol")
    hideout = await db(services.create_room)(alice, "Hideout", private=True)
    socket, _ = await open_socket(carol, "/ws/")
    await db(services.invite)(alice, hideout, "@carol")
    said = "".join(await frames_until(socket, "alice added you to #Hideout."))
    assert f'id="room-{hideout.pk}"' in said  # it joins her sidebar
    await post(alice, hideout.pk, "welcome, carol", uuid.uuid4())
    await frames_until(socket, "welcome, carol")  # her pages follow it from now on
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_leaving_a_private_room_ends_reading_it(alice, bob, hideout):
    socket, _ = await open_socket(bob, f"/ws/rooms/{hideout.pk}/")
    await db(services.leave)(bob, hideout)
    await frames_until(socket, "You left #Hideout.")
    await post(alice, hideout.pk, "after he left", uuid.uuid4())
    assert await never_sees(socket, "after he left")
    assert await db(lambda: client_of(bob).get(f"/rooms/{hideout.slug}/").status_code)() == 404
    await socket.disconnect()


# ---- who may do what ------------------------------------------------------------------------------------


def test_only_members_invite_and_only_the_creator_or_a_moderator_removes(alice, bob, hideout):
    carol, mod = make_user("carol"), make_moderator()
    make_user("dave")
    with pytest.raises(services.ChatError, match="Only the room's members can invite"):
        services.invite(carol, hideout, "dave")
    services.invite(bob, hideout, "carol")  # any member invites
    with pytest.raises(services.ChatError, match="already in #Hideout"):
        services.invite(bob, hideout, "carol")
    with pytest.raises(services.ChatError, match="Nobody here is called"):
        services.invite(bob, hideout, "nobody")
    with pytest.raises(services.ChatError, match="Only the room's creator or a moderator"):
        services.remove_member(bob, hideout, carol.pk)
    services.remove_member(mod, hideout, carol.pk)  # a moderator, not in it
    services.invite(mod, hideout, "dave")  # a moderator invites without being in it
    assert set(hideout.memberships.values_list("user__username", flat=True)) == {"alice", "bob", "dave"}
    with pytest.raises(services.ChatError, match="To leave the room yourself"):
        services.remove_member(alice, hideout, alice.pk)


def test_a_private_room_is_in_nobody_elses_list_and_its_name_reveals_nothing(alice, bob, hideout):
    carol = make_user("carol")
    as_carol = client_of(carol)
    assert "Hideout" not in as_carol.get("/", {"q": "Hide"}).content.decode()
    assert "Hideout" not in as_carol.get("/switch/", {"q": "Hide"}).content.decode()
    # Creating a room of the same name works, for everyone: a name that is taken would say that one exists.
    assert as_carol.post("/", {"name": "Hideout"}).status_code == 302
    assert as_carol.post("/", {"name": "Hideout 2", "private": "on"}).status_code == 302
    assert Room.objects.filter(name="Hideout", kind=Room.Kind.PRIVATE).count() == 1
    page = client_of(bob).get("/").content.decode()
    assert f'id="room-{hideout.pk}"' in page and "Private room" in page  # in his sidebar, marked private


def test_the_room_page_lets_members_invite_and_the_creator_remove(alice, bob, hideout):
    as_alice, as_bob = client_of(alice), client_of(bob)
    assert as_alice.post(f"/rooms/{hideout.pk}/invite/", {"username": "nobody"}).status_code == 302
    page = as_alice.get(f"/rooms/{hideout.slug}/").content.decode()
    assert "Nobody here is called “nobody”." in page  # the reason, on the room's page
    make_user("carol")
    as_bob.post(f"/rooms/{hideout.pk}/invite/", {"username": "carol"})
    assert "carol is now in #Hideout." in as_bob.get(f"/rooms/{hideout.slug}/").content.decode()
    assert 'data-manage="1"' in as_alice.get(f"/rooms/{hideout.slug}/").content.decode()  # remove buttons show
    assert 'data-manage="1"' not in as_bob.get(f"/rooms/{hideout.slug}/").content.decode()
    as_alice.post(f"/rooms/{hideout.pk}/members/{bob.pk}/remove/")
    assert as_bob.get(f"/rooms/{hideout.slug}/").status_code == 404


def test_settings_rename_and_archive_by_the_creator_private_by_moderators_only(alice, bob):
    general = services.create_room(alice, "General")
    services.join(bob, general)
    as_alice = client_of(alice)
    form = {"name": "Town square", "topic": "Anything  goes", "description": "Say hi"}
    assert as_alice.post(f"/rooms/{general.pk}/settings/", form).status_code == 302
    general.refresh_from_db()
    # A new name, the same address: links and bookmarks keep working.
    assert (general.name, general.slug, general.topic) == ("Town square", "general", "Anything goes")
    assert client_of(bob).get("/rooms/general/").status_code == 200
    assert as_alice.post(f"/rooms/{general.pk}/settings/", form | {"private": "on"}).status_code == 302
    assert Room.objects.get(pk=general.pk).kind == Room.Kind.OPEN  # not hers to make private: ignored
    assert client_of(bob).get(f"/rooms/{general.pk}/settings/").status_code == 404
    taken = services.create_room(bob, "Taken")
    refused = as_alice.post(f"/rooms/{general.pk}/settings/", form | {"name": "Taken"})
    assert refused.status_code == 400 and "already exists" in refused.content.decode()
    mod = make_moderator()
    client_of(mod).post(f"/rooms/{general.pk}/settings/", form | {"private": "on"})
    assert Room.objects.get(pk=general.pk).kind == Room.Kind.PRIVATE
    as_alice.post(f"/rooms/{general.pk}/settings/", {"archive": "1"})
    general.refresh_from_db()
    page = client_of(bob).get(f"/rooms/{general.slug}/").content.decode()
    assert "This room is archived" in page  # still readable by its members
    assert f'id="room-{general.pk}"' not in client_of(bob).get("/").content.decode()  # out of the sidebar
    assert ModerationLog.objects.filter(action="archive", actor=alice).exists()
    assert taken.pk


def test_involvement_hides_counts_in_the_sidebar_and_reaches_every_tab(alice, bob):
    general = services.create_room(alice, "General")
    services.join(bob, general)
    services.post_message(alice, general.pk, "for everyone", uuid.uuid4())
    as_bob = client_of(bob)
    assert as_bob.post(f"/rooms/{general.pk}/involvement/", {"level": "nothing"}).status_code == 302
    page = as_bob.get("/").content.decode()
    assert f'id="involvement-{general.pk}" class="involvement" data-level="nothing"' in page
    assert Membership.objects.get(room=general, user=bob).involvement == "nothing"
    assert as_bob.post(f"/rooms/{general.pk}/involvement/", {"level": "loud"}).status_code == 302
    assert Membership.objects.get(room=general, user=bob).involvement == "nothing"  # not a choice: unchanged


# ---- group conversations -------------------------------------------------------------------------------


def test_a_group_conversation_is_one_per_set_of_people_and_adding_someone_starts_a_new_one(alice, bob):
    carol, dave = make_user("carol"), make_user("dave")
    first = services.group_room(alice, [bob.pk, carol.pk])
    assert services.group_room(carol, [alice.pk, bob.pk]) == first  # the same three: the same conversation
    services.post_message(alice, first.pk, "just the three of us", uuid.uuid4())
    bigger = services.group_room(alice, [bob.pk, carol.pk, dave.pk])
    assert bigger != first and not bigger.messages.exists()  # dave reads nothing said before him
    assert client_of(dave).get(f"/g/{first.pk}/").status_code == 404
    with pytest.raises(services.ChatError, match="from 3 to 16 people"):
        services.group_room(alice, [bob.pk])
    many = [make_user(f"p{i}").pk for i in range(16)]
    with pytest.raises(services.ChatError, match="from 3 to 16 people"):
        services.group_room(alice, many)
    with pytest.raises(services.ChatError):
        services.leave(alice, first)  # a conversation's people are fixed


def test_the_people_page_starts_a_group_conversation(alice, bob):
    carol = make_user("carol")
    as_alice = client_of(alice)
    started = as_alice.post("/groups/new/", {"people": [bob.pk, carol.pk]})
    room = Room.objects.get(kind=Room.Kind.GROUP)
    assert started.headers["Location"] == f"/g/{room.pk}/"
    page = as_alice.get(started.headers["Location"]).content.decode()
    assert "<title>bob, carol · Roomcast</title>" in page
    too_few = as_alice.post("/groups/new/", {"people": [bob.pk]})
    assert too_few.status_code == 400 and "choose 2 to 15 others" in too_few.content.decode()
    # Each of them sees it listed from its first message, named by all its people (the page drops its reader).
    services.post_message(alice, room.pk, "hello both", uuid.uuid4())
    sidebar = client_of(carol).get("/").content.decode()
    assert f'id="dm-{room.pk}" class="dm group"' in sidebar and 'class="person" data-user' in sidebar


@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_group_conversation_delivers_counts_catches_up_and_shows_typing_like_a_room(alice, bob):
    carol = await db(make_user)("carol")
    room = await db(services.group_room)(alice, [bob.pk, carol.pk])
    bobs, _ = await open_socket(bob, f"/ws/rooms/{room.pk}/")
    carols, _ = await open_socket(carol, "/ws/")
    await post(alice, room.pk, "hello group", uuid.uuid4())
    first = "".join(await frames_until(carols, "hello group"))
    assert f'id="dm-{room.pk}" class="dm group"' in first  # her sidebar gets it with its first message
    await frames_until(bobs, "hello group")
    alices, _ = await open_socket(alice, f"/ws/rooms/{room.pk}/")
    await alices.send_to(text_data=action("typing"))
    await frames_until(bobs, "alice is typing…")
    await carols.send_to(text_data=action("catch_up", after=0))
    counts = "".join(await frames_until(carols, f'id="unread-{room.pk}"'))
    assert f'<span id="unread-{room.pk}" class="count" hx-swap-oob="true">1</span>' in counts
    late, _ = await open_socket(carol, f"/ws/rooms/{room.pk}/")
    await late.send_to(text_data=action("catch_up", after=0))
    await frames_until(late, "hello group")
    for socket in (bobs, carols, alices, late):
        await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_group_conversation_is_moderated_like_a_direct_one_from_a_report(alice, bob):
    from moderation import services as moderation

    carol, mod = await db(make_user)("carol"), await db(make_moderator)()
    room = await db(services.group_room)(alice, [bob.pk, carol.pk])
    rude = (await post(carol, room.pk, "something rude", uuid.uuid4())).message
    alices, _ = await open_socket(alice, f"/ws/rooms/{room.pk}/")
    report = await db(moderation.report_message)(bob, rude.pk, "rude")
    assert await db(moderation.mute_problem)(mod, room, bob, rude.created_at.replace(year=2100)) is not None
    await db(moderation.act_on_reports)(mod, [report], "remove")
    removed = "".join(await frames_until(alices, f'id="msg-{rude.pk}" class="message deleted"'))
    assert "something rude" not in removed
    await alices.disconnect()


def test_members_find_their_private_rooms_in_the_room_list_and_the_switcher(alice, bob, hideout):
    as_bob = client_of(bob)
    assert "Hideout" in as_bob.get("/", {"q": "hide"}).content.decode()
    assert "Hideout" in as_bob.get("/switch/", {"q": "hide"}, headers={"HX-Request": "true"}).content.decode()
    services.remove_member(alice, hideout, bob.pk)
    assert "Hideout" not in as_bob.get("/switch/", {"q": "hide"}, headers={"HX-Request": "true"}).content.decode()


@pytest.mark.asyncio
@pytest.mark.redis
async def test_removing_a_member_in_admin_cuts_them_off_at_once(alice, bob, hideout):
    # A superuser: a private room is not a moderator's to browse in admin (only through a report).
    mod = await db(make_user)("root", is_staff=True, is_superuser=True)
    socket, _ = await open_socket(bob, f"/ws/rooms/{hideout.pk}/")

    def remove_bob_in_admin() -> int:
        room = {"name": hideout.name, "slug": hideout.slug, "here_limit": 50, "created_by": alice.pk}
        form = room_change_form(hideout, remove={bob.pk}, **room)  # a superuser's form has every field
        return client_of(mod).post(f"/admin/rooms/room/{hideout.pk}/change/", form).status_code

    assert await db(remove_bob_in_admin)() == 302
    await frames_until(socket, "You were removed from #Hideout.")
    await post(alice, hideout.pk, "after admin removed him", uuid.uuid4())
    assert await never_sees(socket, "after admin removed him")
    assert not await db(Membership.objects.filter(room=hideout, user=bob).exists)()
    await socket.disconnect()


def test_a_room_made_private_moves_to_an_address_of_its_own_and_blocks_no_name(alice, bob):
    mod = make_moderator()
    general = services.create_room(alice, "General")
    services.set_private(mod, general, True)
    hidden = Room.objects.get(pk=general.pk)
    assert hidden.slug.startswith("general-")  # its old address is free, and tells nothing of it
    assert client_of(alice).get(f"/rooms/{hidden.slug}/").status_code == 200
    # Someone outside it names a room "General": made, at the plain address, telling nothing.
    assert services.create_room(bob, "General").slug == "general"
    with pytest.raises(services.ChatError, match="already exists"):
        services.set_private(mod, hidden, False)  # two open rooms of one name: refused, and said
    services.update_settings(alice, hidden, "Old general", "", "")
    services.set_private(mod, hidden, False)
    assert Room.objects.get(pk=general.pk).slug == hidden.slug  # renamed and opened: the same address
    with pytest.raises(services.ChatError, match="already exists"):
        services.create_room(bob, "OLD GENERAL")


def test_the_last_member_cannot_leave_a_private_room_unreachable(alice, bob, hideout):
    services.leave(bob, hideout)
    with pytest.raises(services.ChatError, match="You are the last one in this private room"):
        services.leave(alice, hideout)
    page = client_of(alice).post(f"/rooms/{hideout.pk}/leave/", follow=True).content.decode()
    assert "You are the last one in this private room" in page and Membership.objects.filter(user=alice).exists()
