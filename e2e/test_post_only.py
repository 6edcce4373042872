"""Looking changes nothing: opening a room or someone's conversation page neither joins nor starts anything;
the Join button or the first message does (issue 11)."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import in_thread
from .support import messages, send, wait_for_socket


def test_a_room_is_read_before_joining_and_a_dm_starts_with_its_first_message(logged_in, make_user):
    from rooms import services
    from rooms.models import Membership, Room

    room = in_thread(services.create_room, make_user("dave"), "General")
    carol = logged_in("carol")
    carol.goto("/rooms/general/")
    wait_for_socket(carol)
    expect(carol.locator("#room-list")).not_to_contain_text("General")  # looking is not joining
    assert not Membership.objects.filter(room=room, user__username="carol").exists()
    carol.get_by_role("button", name="Join this room").click()
    expect(carol.locator("#room-list")).to_contain_text("General")
    expect(carol.get_by_role("button", name="Join this room")).to_have_count(0)

    alice, bob = logged_in("alice"), logged_in("bob")
    bob.goto("/rooms/general/")
    wait_for_socket(bob)
    alice.goto("/dm/bob/")
    expect(alice.get_by_text("No messages yet. Say hello!")).to_be_visible()
    assert not Room.objects.filter(kind="direct").exists()  # the page alone started nothing
    send(alice, "hi bob, a word in private")
    expect(messages(alice)).to_have_count(1)
    expect(messages(alice).first).to_contain_text("hi bob, a word in private")
    expect(bob.locator("#dm-list")).to_contain_text("@alice")  # live in bob's sidebar, without a reload
