"""Moderation, hardened (issue 10): what an attacker did with a signed-in account and a moderator's, each
reproduced here and now refused.

- a reported message rewritten before review: the report keeps the reported text and admin says it changed;
- a moderator reading email addresses (or password hashes) through the user list's query string;
- a moderator learning who has a direct conversation with whom through the Mute form, and muting inside one;
- a moderator muting staff, or lifting a superuser's ban (the ban's hierarchy holds for every action);
- a reporter putting a dismissed report back in the queue forever;
- rooms that could not be archived or deleted.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape

from moderation import services as moderation
from moderation.models import Ban, ModerationLog, Report
from rooms import access, services
from rooms.models import Message, Mute, Room

from .helpers import frames_until, make_user, never_sees, open_socket, send_frame
from .support.moderation import action, live, logged, make_moderator, post, signed_in

Action = ModerationLog.Action


def in_days(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def superuser(username: str = "root"):
    return make_user(username, is_staff=True, is_superuser=True)


def mute_form(room_id: int, user_id: int, reason: str = "calm down") -> dict:
    until = in_days(2)
    return {"room": room_id, "user": user_id, "until_0": f"{until:%Y-%m-%d}", "until_1": "12:00:00", "reason": reason}


# ---- 1. a reported message rewritten before review -----------------------------------------------------


def test_a_report_keeps_the_reported_text_and_admin_says_when_it_was_edited_since(people):
    alice, bob, mod = people["alice"], people["bob"], make_moderator("mod2")
    message = post(alice, people["general"], "send me your password, idiot")
    untouched = post(alice, people["general"], "another rude one")
    report = moderation.report_message(bob, message.pk, "abusive")
    moderation.report_message(bob, untouched.pk, "rude")
    services.edit_message(alice, message.pk, "have a nice day")  # the author cleans up before review

    report.refresh_from_db()
    assert report.reported_body == "send me your password, idiot"
    client = signed_in(mod)
    queue = client.get("/admin/moderation/report/").content.decode()
    row = queue[queue.index("send me your password") :].split("</tr>")[0]
    assert "(edited after it was reported)" in row and "have a nice day" not in row
    other_row = queue[queue.index("another rude one") :].split("</tr>")[0]
    assert "edited after it was reported" not in other_row

    page = client.get(f"/admin/moderation/report/{report.pk}/change/").content.decode()
    reported_row = page[page.index('class="reported"') :].split("</tr>")[0]
    assert "<mark>send me your password, idiot</mark>" in reported_row
    assert "edited after it was reported" in reported_row and "have a nice day" in reported_row
    assert "Edited after it was reported. It now says: have a nice day" in page
    # Found by what was reported, too.
    assert "send me your password" in client.get("/admin/moderation/report/?q=password").content.decode()
    unchanged = Report.objects.get(message=untouched)
    assert (
        "Unchanged since it was reported."
        in client.get(f"/admin/moderation/report/{unchanged.pk}/change/").content.decode()
    )


# ---- 2. email addresses through the user list's query string -------------------------------------------


UNDECLARED_LOOKUPS = [
    "email__startswith=alice",
    "email__contains=example",
    "email=alice@example.com",
    "email__regex=^a",
    "password__startswith=pbkdf2",  # Django's UserAdmin refuses this one for everyone
    "emailaddress__email__startswith=alice",  # allauth's addresses, through a relation
    "groups__name=Moderators",
    "user_permissions__codename__startswith=add",
    "is_superuser__exact=1",  # who is staff is not shown to moderators either
    "is_staff__exact=1",
    "first_name__startswith=A",
    "bans__reason__contains=spam",
]


@pytest.mark.parametrize("query", UNDECLARED_LOOKUPS)
def test_a_moderator_cannot_filter_people_by_anything_but_the_declared_filters(people, query):
    response = signed_in(people["mod"]).get(f"/admin/auth/user/?{query}")
    assert response.status_code == 400  # Django's DisallowedModelAdminLookup
    assert "alice@example.com" not in response.content.decode()


def test_the_declared_filters_still_work_for_a_moderator_and_managers_keep_theirs(people):
    client = signed_in(people["mod"])
    week = {"date_joined__gte": timezone.now() - dt.timedelta(days=7), "date_joined__lt": in_days(1)}
    for query in ({"is_active__exact": "1"}, week, {"q": "ali"}):
        response = client.get("/admin/auth/user/", query)
        assert response.status_code == 200 and "alice" in response.content.decode(), query
    root = signed_in(superuser())
    assert "alice@example.com" in root.get("/admin/auth/user/?email__startswith=alice").content.decode()


# ---- 3. who talks privately with whom, and mutes inside a private conversation ------------------------


def test_the_mute_form_takes_only_open_rooms_and_never_names_a_direct_conversation(people):
    alice, bob = people["alice"], people["bob"]
    dm = services.direct_room(alice, bob)
    post(alice, dm, "just between us")
    for person in (people["mod"], superuser()):
        client = signed_in(person)
        add_page = client.get("/admin/rooms/mute/add/").content.decode()
        assert dm.direct_key not in add_page
        page = client.post("/admin/rooms/mute/add/", mute_form(dm.pk, alice.pk)).content.decode()
        assert "Select a valid choice" in page
        for tell in (dm.direct_key, f"DM {dm.direct_key}", str(dm)):
            assert tell not in page
    assert not Mute.objects.exists() and not ModerationLog.objects.exists()
    # And through the service, whoever asks, without a report there is no mute in a direct conversation.
    for person in (people["mod"], superuser("root2")):
        with pytest.raises(services.ChatError, match="only from a report"):
            moderation.mute(person, dm, alice, in_days(1))
    assert not Mute.objects.exists()


def test_a_mute_in_a_direct_conversation_comes_from_a_report_in_it(people):
    alice, bob, carol, mod = people["alice"], people["bob"], people["carol"], people["mod"]
    dm = services.direct_room(alice, bob)
    threat = post(alice, dm, "I know where you live")
    elsewhere = post(alice, services.direct_room(alice, carol), "hi carol")
    moderation.report_message(carol, elsewhere.pk, "creepy")  # a report about another conversation
    with pytest.raises(services.ChatError):
        moderation.mute(mod, dm, alice, in_days(1))
    report = moderation.report_message(bob, threat.pk, "threat")
    assert moderation.act_on_reports(mod, [report], "mute", "no threats") == 1
    assert Mute.objects.get(room=dm, user=alice).reason == "no threats"
    # Admin names the conversation without its people's ids.
    for url in ("/admin/rooms/mute/", "/admin/moderation/moderationlog/", "/admin/moderation/report/"):
        page = signed_in(mod).get(url).content.decode()
        assert f"Direct conversation #{dm.pk}" in page and dm.direct_key not in page, url


def test_a_direct_conversation_is_named_without_its_members(people):
    dm = services.direct_room(people["alice"], people["bob"])
    assert str(dm) == f"Direct conversation #{dm.pk}"
    assert dm.direct_key not in str(dm)
    assert str(dm.memberships.get(user=people["alice"])) == f"alice in Direct conversation #{dm.pk}"


# ---- 4. the hierarchy holds for mutes, unmutes and lifting bans ----------------------------------------


def test_a_moderator_cannot_mute_staff_or_themselves_but_a_superuser_can_mute_staff(people):
    mod, general = people["mod"], people["general"]
    staff = make_user("helper", is_staff=True)
    client = signed_in(mod)
    for target, error in ((staff, "Only a superuser can mute a staff member."), (mod, "You can't mute yourself.")):
        page = client.post("/admin/rooms/mute/add/", mute_form(general.pk, target.pk)).content.decode()
        assert escape(error) in page
        with pytest.raises(services.ChatError, match=re.escape(error)):
            moderation.mute(mod, general, target, in_days(1))
    assert not Mute.objects.exists()
    # The report queue's "mute author" is the same service.
    words = post(staff, general, "staff words")
    report = moderation.report_message(people["bob"], words.pk, "rude")
    response = client.post(f"/admin/moderation/report/{report.pk}/change/", {"_mute": "go"}, follow=True)
    assert "Only a superuser can mute a staff member." in response.content.decode()
    assert not Mute.objects.exists() and Report.objects.get(pk=report.pk).is_open

    moderation.mute(superuser(), general, staff, in_days(1))
    assert Mute.objects.filter(user=staff).exists()


def test_a_moderator_cannot_end_a_staff_members_or_their_own_mute(people):
    mod, general, root = people["mod"], people["general"], superuser()
    staff = make_user("helper", is_staff=True)
    staffs = moderation.mute(root, general, staff, in_days(1))
    own = moderation.mute(root, general, mod, in_days(1))
    bobs = moderation.mute(root, general, people["bob"], in_days(1))
    client = signed_in(mod)
    for mute in (staffs, own):
        response = client.post("/admin/rooms/mute/", {"action": "unmute", "_selected_action": [mute.pk, bobs.pk]})
        assert response.status_code == 302
        assert client.post(f"/admin/rooms/mute/{mute.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.post(f"/admin/rooms/mute/{mute.pk}/change/", {"until_0": "2100-01-01"}).status_code == 403
        with pytest.raises(services.ChatError):
            moderation.unmute(mod, Mute.objects.filter(pk=mute.pk))
    page = client.get("/admin/rooms/mute/").content.decode()
    assert set(Mute.objects.values_list("pk", flat=True)) == {staffs.pk, own.pk, bobs.pk}  # all or nothing
    assert not ModerationLog.objects.filter(action=Action.UNMUTE).exists()
    assert "bob" in page
    assert moderation.unmute(mod, Mute.objects.filter(pk=bobs.pk)) == 1  # the rest is theirs to end


def test_a_moderator_cannot_lift_a_superusers_or_staff_members_ban(people):
    mod, root = people["mod"], superuser()
    for target in (superuser("other_root"), make_user("helper", is_staff=True)):
        ban = moderation.ban(root, target, "compromised account")
        response = signed_in(mod).post(
            "/admin/moderation/ban/", {"action": "lift", "_selected_action": [ban.pk]}, follow=True
        )
        assert "lift a staff member&#x27;s ban. No ban was lifted." in response.content.decode()
        assert Ban.objects.get(pk=ban.pk).is_active
        with pytest.raises(services.ChatError):
            moderation.lift_bans(mod, Ban.objects.filter(pk=ban.pk))
        assert Ban.objects.get(pk=ban.pk).is_active
    own = Ban.objects.create(user=mod, reason="rogue moderator", created_by=root)
    with pytest.raises(services.ChatError, match=r"You can't lift your own ban\."):
        moderation.lift_bans(mod, Ban.objects.filter(pk=own.pk))
    assert Ban.objects.get(pk=own.pk).is_active and not ModerationLog.objects.filter(action=Action.LIFT_BAN).exists()
    assert moderation.lift_bans(root, Ban.objects.exclude(pk=own.pk)) == 2  # a superuser may


# ---- 5. a dismissed report stays dismissed for the same reporter ---------------------------------------


def test_once_dealt_with_only_a_new_reporter_or_an_edit_brings_a_message_back_to_the_queue(people):
    alice, bob, carol, mod = people["alice"], people["bob"], people["carol"], people["mod"]
    message = post(alice, people["general"], "borderline joke")
    report = moderation.report_message(bob, message.pk, "offensive")
    moderation.act_on_reports(mod, [report], "dismiss", "it's a joke")

    with pytest.raises(services.ChatError, match=re.escape(str(moderation.ALREADY_REVIEWED))):
        moderation.report_message(bob, message.pk, "offensive!!!")
    report.refresh_from_db()
    assert report.resolution == Report.Resolution.DISMISSED and report.reason == "offensive"
    assert not Report.objects.filter(resolved_at__isnull=True).exists()

    fresh = moderation.report_message(carol, message.pk, "not funny")  # someone new: back in the queue
    assert fresh.is_open and Report.objects.filter(resolved_at__isnull=True).count() == 1

    services.edit_message(alice, message.pk, "a much worse joke")  # a new text is a new question
    again = moderation.report_message(bob, message.pk, "worse now")
    assert again.pk == report.pk and again.is_open
    assert (again.reason, again.reported_body) == ("worse now", "a much worse joke")


@live
async def test_a_repeated_report_over_the_socket_says_it_was_already_reviewed(people):
    alice, bob, mod, general = (people[k] for k in ("alice", "bob", "mod", "general"))
    message = await database_sync_to_async(post)(alice, general, "meh")
    report = await database_sync_to_async(moderation.report_message)(bob, message.pk, "spam")
    await database_sync_to_async(moderation.act_on_reports)(mod, [report], "dismiss")
    page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    await page.send_to(text_data=action("report", message_id=message.pk, reason="spam!", client_id="report-1"))
    reply = (await frames_until(page, 'data-client-id="report-1"'))[-1]
    assert 'data-ok="0"' in reply and escape(str(moderation.ALREADY_REVIEWED)) in reply
    assert not await database_sync_to_async(Report.objects.filter(resolved_at__isnull=True).exists)()
    await page.disconnect()


# ---- 6. archiving and deleting rooms -------------------------------------------------------------------


@live
async def test_archiving_makes_a_room_read_only_for_everyone_live_and_unarchiving_reopens_it(people):
    bob, mod, general = people["bob"], people["mod"], people["general"]
    own = await database_sync_to_async(post)(bob, general, "my words")
    bob_tab, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    mod_tab, _ = await open_socket(mod, f"/ws/rooms/{general.pk}/")
    admin = await sync_to_async(signed_in)(mod)

    response = await sync_to_async(admin.post)(
        "/admin/rooms/room/", {"action": "archive_rooms", "_selected_action": [general.pk]}
    )
    assert response.status_code == 302
    frame = (await frames_until(bob_tab, f'id="room-state-{general.pk}"'))[-1]
    assert 'data-locked="1"' in frame  # the composer goes, live

    for tab, person in ((bob_tab, "bob"), (mod_tab, "mod")):  # the moderator too: archived is closed
        client_id = str(uuid.uuid4())
        await tab.send_to(text_data=send_frame(f"{person} still talking?", client_id))
        reply = (await frames_until(tab, f'data-client-id="{client_id}"'))[-1]
        assert 'data-ok="0"' in reply and escape(str(access.ARCHIVED)) in reply, person
    await bob_tab.send_to(text_data=action("edit", message_id=own.pk, body="rewritten", client_id="edit-1"))
    assert escape(str(access.ARCHIVED)) in (await frames_until(bob_tab, 'data-client-id="edit-1"'))[-1]
    await bob_tab.send_to(text_data=action("typing"))
    assert await never_sees(mod_tab, "bob is typing")

    def while_archived():
        assert list(general.messages.values_list("body", flat=True)) == ["my words"]
        assert logged(Action.ARCHIVE, actor=mod, room=general)
        assert general.pk not in Room.objects.listed().values_list("pk", flat=True)
        page = signed_in(bob).get("/rooms/general/")  # still readable by its members
        assert page.status_code == 200 and "my words" in page.content.decode()
        # Unlocking alone would let people write again: only unarchiving does.
        response = admin.post("/admin/rooms/room/", {"action": "unlock_rooms", "_selected_action": [general.pk]})
        assert response.status_code == 302 and Room.objects.get(pk=general.pk).locked
        with pytest.raises(services.ChatError, match="unarchive"):
            moderation.set_locked(mod, Room.objects.get(pk=general.pk), False)
        change = admin.get(f"/admin/rooms/room/{general.pk}/change/").content.decode()
        assert 'name="locked"' not in change

    await database_sync_to_async(while_archived)()

    response = await sync_to_async(admin.post)(
        "/admin/rooms/room/", {"action": "unarchive_rooms", "_selected_action": [general.pk]}
    )
    assert response.status_code == 302
    assert 'data-locked="0"' in (await frames_until(bob_tab, f'id="room-state-{general.pk}"'))[-1]
    await bob_tab.send_to(text_data=send_frame("back again"))
    await frames_until(mod_tab, "back again")
    assert await database_sync_to_async(logged)(Action.UNARCHIVE, actor=mod, room=general)
    assert await database_sync_to_async(Room.objects.listed().filter(pk=general.pk).exists)()
    await bob_tab.disconnect()
    await mod_tab.disconnect()


def test_the_room_list_queryset_leaves_out_archived_and_direct_rooms(people):
    general, mod = people["general"], people["mod"]
    quiet = services.create_room(people["bob"], "Quiet")
    services.direct_room(people["alice"], people["bob"])
    assert list(Room.objects.listed()) == [people["elsewhere"], general, quiet]
    assert moderation.set_archived(mod, quiet, True)
    assert not moderation.set_archived(mod, quiet, True)  # already archived: nothing to do, nothing logged
    assert list(Room.objects.listed()) == [people["elsewhere"], general]
    assert ModerationLog.objects.filter(action=Action.ARCHIVE).count() == 1


def test_an_archived_room_leaves_the_room_list_and_reads_without_joining(people):
    general, mod = people["general"], people["mod"]
    services.post_message(people["alice"], general.pk, "the last word", uuid.uuid4())
    moderation.set_archived(mod, general, True)
    dave = make_user("dave")
    client = signed_in(dave)
    assert "General" not in client.get("/").content.decode()
    assert "General" not in client.get("/", {"q": "gen"}).content.decode()
    page = client.get("/rooms/general/").content.decode()  # its link still works: the record stays readable
    assert "the last word" in page and 'data-archived="1"' in page
    assert "This room is archived; you can read it, but nobody can write in it." in page
    assert not general.memberships.filter(user=dave).exists()  # a closed room gains no members
    assert "General" not in client.get("/people/").content.decode().split('id="room-list"')[1].split("</ul>")[0]


def test_an_author_cannot_delete_a_message_in_an_archived_room_but_a_moderator_can(people):
    general, mod, alice = people["general"], people["mod"], people["alice"]
    mine = services.post_message(alice, general.pk, "keep me", uuid.uuid4()).message
    moderation.set_archived(mod, general, True)
    with pytest.raises(services.ChatError, match="archived"):
        services.delete_message(alice, mine.pk)
    assert Message.objects.get(pk=mine.pk).deleted_at is None
    services.delete_message(mod, mine.pk)  # moderation still works on the record
    assert Message.objects.get(pk=mine.pk).deleted_at is not None


def test_only_open_rooms_can_be_archived_and_an_archived_room_stays_locked(people):
    dm = services.direct_room(people["alice"], people["bob"])
    with pytest.raises(services.ChatError, match="Only rooms can be archived"):
        moderation.set_archived(people["mod"], dm, True)
    # The database itself holds it: archived means an open room, locked.
    for room, fields in ((dm, {"archived_at": timezone.now()}), (people["general"], {"archived_at": timezone.now()})):
        with pytest.raises(IntegrityError), transaction.atomic():
            Room.objects.filter(pk=room.pk).update(**fields)
    # A staff member outside the Moderators group may not archive.
    clerk = make_user("clerk", is_staff=True)
    response = signed_in(clerk).post(
        "/admin/rooms/room/", {"action": "archive_rooms", "_selected_action": [people["general"].pk]}
    )
    assert response.status_code == 403 and not Room.objects.get(pk=people["general"].pk).is_archived


def test_a_superuser_deletes_only_rooms_without_messages_and_moderators_none(people):
    general, mod, root = people["general"], people["mod"], signed_in(superuser())
    spam = services.create_room(people["bob"], "Buy Followers")
    post(people["alice"], general, "a conversation")

    assert signed_in(mod).get(f"/admin/rooms/room/{spam.pk}/delete/").status_code == 403
    assert root.get(f"/admin/rooms/room/{general.pk}/delete/").status_code == 403  # it has messages: archive it
    changelist = root.get("/admin/rooms/room/").content.decode()
    assert 'value="delete_selected"' not in changelist  # no bulk deletion past the check
    with pytest.raises(services.ChatError, match="archive it instead"):
        moderation.delete_room(superuser("root2"), general)

    assert root.post(f"/admin/rooms/room/{spam.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Room.objects.filter(pk=spam.pk).exists() and Room.objects.filter(pk=general.pk).exists()
    spam_again = services.create_room(people["bob"], "Buy Followers")
    entry = ModerationLog.objects.get(action=Action.DELETE_ROOM)
    assert entry.details == "#Buy Followers (buy-followers)"
    with pytest.raises(PermissionDenied):
        moderation.delete_room(mod, spam_again)  # no rooms.delete_room, even for an empty room
    assert Message.objects.filter(room=general).exists()
