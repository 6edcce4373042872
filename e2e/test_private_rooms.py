"""Rooms that fit a team, as people use them: a private room made from the room list, a member invited from its
members panel (who hears of it live), an outsider who cannot find it, and a removal that cuts the removed
person's open page off at once; group conversations started from the people list; a muted room."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from .conftest import in_thread
from .support import messages, send, wait_for_socket
from .test_design import DESKTOP, person


def test_a_private_room_invite_an_outsider_who_cannot_find_it_and_a_removal_that_cuts_off(new_context, make_user):
    from rooms import services
    from rooms.models import Room

    for name in ("alice", "bob", "carol", "dave"):
        make_user(name)
    alice, bob, carol = (person(new_context, name, viewport=DESKTOP) for name in ("alice", "bob", "carol"))
    wait_for_socket(bob)  # bob is on the room list, not knowing of the room yet

    # alice makes a private room from the room list.
    create = alice.locator("form", has=alice.get_by_role("button", name="Create room"))
    create.get_by_label("Name").fill("Hideout")
    create.get_by_label("Private").check()
    create.get_by_role("button", name="Create room").click()
    expect(alice.get_by_role("heading", level=1)).to_contain_text("Hideout")
    wait_for_socket(alice)
    address = alice.url

    # She invites bob from the members panel; his page says so at once, and the room joins his sidebar.
    alice.get_by_label("Invite someone").fill("bob")
    alice.get_by_role("button", name="Invite", exact=True).click()
    expect(alice.locator(".flash")).to_contain_text("bob is now in #Hideout.")
    notice = bob.locator("#notices .notice")
    expect(notice).to_contain_text("alice added you to #Hideout.")
    expect(bob.locator("#room-list")).to_contain_text("Hideout")
    notice.get_by_role("link", name="Open it").click()
    wait_for_socket(bob)
    send(bob, "glad to be in")
    expect(messages(alice).filter(has_text="glad to be in")).to_have_count(1)

    # carol cannot find it: not in the room list's search, not at its address.
    carol.goto("/?q=Hide")
    expect(carol.locator("table.rooms")).not_to_contain_text("Hideout")
    expect(carol.locator("#sidebar")).not_to_contain_text("Hideout")
    assert carol.goto(address).status == 404

    # dave is invited from elsewhere: alice's members panel shows him live (pushed, rendered without a request).
    room = in_thread(Room.objects.get, name="Hideout")
    in_thread(lambda: services.invite(room.created_by, room, "dave"))
    expect(alice.locator(".members")).to_contain_text("dave")

    # alice removes bob from that panel: his open page says so, takes no more writing, and receives nothing more.
    asked = []
    alice.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    alice.locator(".members li", has_text="bob").get_by_role("button", name="Remove bob from the room").click()
    expect(bob.locator(".room-state")).to_contain_text("You were removed from #Hideout.")
    expect(bob.locator("#composer textarea")).to_be_hidden()
    expect(bob.locator("#room-list")).not_to_contain_text("Hideout")
    assert asked == ["Remove bob from #Hideout? They stop seeing it at once."]  # asked first
    expect(alice.locator(".members")).not_to_contain_text("bob")  # her panel, live
    expect(alice.locator(".members-toggle")).to_have_text("2 members")
    wait_for_socket(alice)
    send(alice, "bob is gone now")
    expect(messages(alice).filter(has_text="bob is gone now")).to_have_count(1)
    bob.wait_for_timeout(1500)  # what would have reached him by now
    expect(bob.get_by_text("bob is gone now")).to_have_count(0)
    assert bob.goto(address).status == 404


def test_a_group_conversation_started_from_the_people_list(new_context, make_user):
    for name in ("alice", "bob", "carol"):
        make_user(name)
    alice, carol = (person(new_context, name, viewport=DESKTOP) for name in ("alice", "carol"))
    wait_for_socket(carol)
    alice.goto("/people/")
    alice.get_by_role("checkbox", name=re.compile("@bob")).check()
    alice.get_by_role("checkbox", name=re.compile("@carol")).check()
    alice.get_by_role("button", name="Start a group conversation").click()
    expect(alice).to_have_url(re.compile(r"/g/\d+/$"))
    expect(alice.get_by_role("heading", level=1)).to_have_text("bob, carol")
    wait_for_socket(alice)
    send(alice, "hello, both of you")
    # It reaches carol's sidebar live with its first message, named by the others (not by herself).
    entry = carol.locator("#dm-list li.group")
    expect(entry.get_by_role("link")).to_have_accessible_name("alice, bob")
    expect(entry.locator(".count")).to_have_text("1")
    entry.get_by_role("link").click()
    expect(messages(carol).filter(has_text="hello, both of you")).to_have_count(1)
    # "Add someone" starts a new, larger conversation with these people ticked.
    alice.get_by_role("link", name="Add someone (starts a new conversation)").click()
    expect(alice.get_by_role("checkbox", name=re.compile("@bob"))).to_be_checked()
    expect(alice.get_by_role("checkbox", name=re.compile("@carol"))).to_be_checked()


def test_a_muted_room_shows_no_badge_and_is_greyed(new_context, make_user):
    from rooms import services

    alice, bob = make_user("alice"), make_user("bob")
    general = in_thread(services.create_room, alice, "General")
    quiet = in_thread(services.create_room, alice, "Chatter")
    for room in (general, quiet):
        in_thread(services.join, bob, room)
    page = person(new_context, "bob", viewport=DESKTOP)
    page.goto(f"/rooms/{quiet.slug}/")
    options = page.get_by_text("Room options")
    options.click()
    expect(page.get_by_label("Nothing (muted)")).to_be_visible()
    page.keyboard.press("Escape")  # closes like a menu, back on its button
    expect(page.get_by_label("Nothing (muted)")).to_be_hidden()
    expect(options).to_be_focused()
    options.click()
    page.get_by_label("Nothing (muted)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    page.goto(f"/rooms/{general.slug}/")
    wait_for_socket(page)
    in_thread(services.post_message, alice, quiet.pk, "noise", uuid.uuid4())
    in_thread(services.post_message, alice, general.pk, "@bob look", uuid.uuid4())
    expect(messages(page).filter(has_text="@bob look")).to_have_count(1)
    entry = page.locator(f"#room-{quiet.pk}")
    expect(entry.locator(".count")).to_be_hidden()  # counted, but not shown
    expect(entry.get_by_role("link")).to_have_css("font-style", "italic")
    assert not page.title().startswith("(")  # nor in the tab's title
