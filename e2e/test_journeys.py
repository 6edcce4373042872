"""What people see in Roomcast, driven through Chromium against a live Daphne.

Every assertion waits (Playwright `expect`) for what is on screen; nothing sleeps.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from .conftest import in_thread
from .support import assert_not_reloaded, mark_page, messages, send, wait_for_socket

# ---- helpers -----------------------------------------------------------------------------------------------


def create_room(page: Page, name: str, description: str = "") -> None:
    page.goto("/")
    form = page.locator("form", has=page.get_by_role("button", name="Create room"))
    form.get_by_label("Name").fill(name)
    form.get_by_label("Description").fill(description)
    form.get_by_role("button", name="Create room").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"# {name}")


# ---- journeys ----------------------------------------------------------------------------------------------


def test_two_people_chat_live_in_a_room_and_other_rooms_stay_private(signed_up, logged_in, ws_frames):
    alice = signed_up("alice")
    bob = signed_up("bob")
    carol = logged_in("carol")

    create_room(alice, "Book Club", "Chapter by chapter")
    expect(alice).to_have_url(re.compile(r"/rooms/book-club/$"))
    expect(alice.get_by_text("Chapter by chapter")).to_be_visible()
    expect(alice.get_by_text("No messages yet. Say hello!")).to_be_visible()

    # bob finds the new room in the list and opens it.
    bob.goto("/")
    row = bob.locator("table.rooms tr", has_text="Book Club")
    expect(row).to_contain_text("Chapter by chapter")
    row.get_by_role("link", name="# Book Club").click()
    expect(bob).to_have_url(re.compile(r"/rooms/book-club/$"))
    expect(bob.get_by_role("heading", level=1)).to_have_text("# Book Club")

    # carol sits in another room.
    create_room(carol, "Gardening")

    for page in (alice, bob, carol):
        wait_for_socket(page)
        mark_page(page)

    send(alice, "Hi bob, chapter one?")
    expect(messages(bob)).to_have_count(1)
    expect(messages(bob).first).to_contain_text("alice")
    expect(messages(bob).first).to_contain_text("Hi bob, chapter one?")
    expect(messages(alice).first).to_contain_text("Hi bob, chapter one?")
    expect(alice.locator("#composer textarea")).to_have_value("")
    expect(alice.locator("#composer-status")).to_have_text("")

    send(bob, "Sure, tonight works")
    expect(messages(alice)).to_have_count(2)
    expect(messages(alice).nth(1)).to_contain_text("bob")
    expect(messages(alice).nth(1)).to_contain_text("Sure, tonight works")
    expect(messages(bob).nth(1)).to_contain_text("Sure, tonight works")
    expect(bob.locator("#composer textarea")).to_have_value("")
    # The page tells my own messages apart from the others'.
    expect(messages(alice).nth(0)).to_have_class(re.compile(r"\bmine\b"))
    expect(messages(alice).nth(1)).not_to_have_class(re.compile(r"\bmine\b"))

    # carol's socket works (she sees her own message live), yet nothing from Book Club reached her.
    send(carol, "Tomatoes are in")
    expect(messages(carol)).to_have_count(1)
    expect(messages(carol).first).to_contain_text("Tomatoes are in")
    expect(carol.locator("main")).not_to_contain_text("chapter one")
    expect(carol.locator("main")).not_to_contain_text("tonight works")
    assert any("Tomatoes are in" in f for f in ws_frames(carol))
    assert not [f for f in ws_frames(carol) if "chapter one" in f or "tonight works" in f], "Book Club reached carol"
    # ...and the other way round.
    for page in (alice, bob):
        expect(messages(page)).to_have_count(2)
        expect(page.locator("main")).not_to_contain_text("Tomatoes")
        assert not [f for f in ws_frames(page) if "Tomatoes" in f], "carol's room reached Book Club"

    for page in (alice, bob, carol):
        assert_not_reloaded(page)


def test_direct_message_shows_a_live_unread_count_and_stays_private(logged_in, ws_frames):
    alice = logged_in("alice")
    bob = logged_in("bob")
    carol = logged_in("carol")
    # alice and carol wait on the room list; bob writes to alice.
    for page in (alice, carol):
        wait_for_socket(page)
        mark_page(page)
    expect(alice.locator("#dm-list li")).to_have_count(0)

    bob.goto("/people/")
    bob.locator(".people li", has_text="alice").get_by_role("link", name="Message").click()
    expect(bob).to_have_url(re.compile(r"/dm/alice/$"))
    expect(bob.get_by_role("heading", level=1)).to_have_text("@alice")
    expect(bob.get_by_text("Private conversation between you and alice.")).to_be_visible()
    send(bob, "Psst alice, the surprise party is on Friday")
    expect(messages(bob)).to_have_count(1)
    expect(bob.locator("#composer textarea")).to_have_value("")

    # alice, still on the room list, gets a live unread entry at the top of her sidebar.
    entry = alice.locator("#dm-list li.dm").first
    expect(entry.get_by_role("link")).to_have_text("@bob")
    expect(entry.locator(".count")).to_be_visible()
    expect(entry.locator(".count")).to_have_text("1")
    expect(alice.locator("#dm-list li")).to_have_count(1)
    assert_not_reloaded(alice)
    assert alice.url.endswith("/")

    entry.get_by_role("link", name="@bob").click()
    expect(alice).to_have_url(re.compile(r"/dm/bob/$"))
    expect(alice.get_by_role("heading", level=1)).to_have_text("@bob")
    expect(messages(alice)).to_have_count(1)
    expect(messages(alice).first).to_contain_text("bob")
    expect(messages(alice).first).to_contain_text("Psst alice, the surprise party is on Friday")
    # Reading the conversation clears the count, and it stays cleared on other pages: the read is stored.
    expect(alice.locator("#dm-list li.dm")).to_have_count(1)
    expect(alice.locator("#dm-list li.dm .count")).to_be_hidden()
    alice.goto("/people/")
    expect(alice.locator("#dm-list li.dm")).to_contain_text("@bob")
    expect(alice.locator("#dm-list li.dm .count")).to_be_hidden()

    # carol never sees it: not live, not in her sidebar, not in her own conversations with either of them.
    secret = "surprise party"
    expect(carol.locator("#dm-list li")).to_have_count(0)
    expect(carol.locator("body")).not_to_contain_text(secret)
    assert_not_reloaded(carol)
    for path, other in (("/dm/alice/", "alice"), ("/dm/bob/", "bob")):
        carol.goto(path)
        expect(carol.get_by_role("heading", level=1)).to_have_text(f"@{other}")
        expect(carol.get_by_text(f"Private conversation between you and {other}.")).to_be_visible()
        expect(messages(carol)).to_have_count(0)
        expect(carol.get_by_text("No messages yet. Say hello!")).to_be_visible()
        expect(carol.locator("body")).not_to_contain_text(secret)
    for path in ("/", "/people/"):
        carol.goto(path)
        expect(carol.locator("header .me")).to_contain_text("carol")
        expect(carol.locator("body")).not_to_contain_text(secret)
    # Visiting her own (empty) conversations does not surface anyone else's.
    expect(carol.locator("#dm-list")).not_to_contain_text(secret)
    # Nor did the message reach carol's browser at all: her socket was open on the room list all along.
    assert not [f for f in ws_frames(carol) if secret in f], "bob's DM to alice was pushed to carol"
    assert any(secret in f for f in ws_frames(alice))


def test_admin_deletes_a_message_and_it_disappears_live(logged_in, admin_page, make_user):
    from rooms import services

    alice = make_user("alice")
    room = in_thread(services.create_room, alice, "Announcements")
    doomed, kept = (
        in_thread(services.post_message, alice, room.pk, text, uuid.uuid4()).message
        for text in ("Buy cheap watches here", "Meeting moved to 3pm")
    )

    bob = logged_in("bob")
    bob.goto("/rooms/announcements/")
    expect(bob.locator(f"#msg-{doomed.pk}")).to_contain_text("Buy cheap watches here")
    expect(bob.locator(f"#msg-{kept.pk}")).to_contain_text("Meeting moved to 3pm")
    wait_for_socket(bob)
    mark_page(bob)

    admin = admin_page("/admin/rooms/message/")
    row = admin.locator("#result_list tbody tr", has_text="Buy cheap watches here")
    expect(admin.locator("#result_list tbody tr")).to_have_count(2)
    row.locator("input.action-select").check()
    admin.locator("select[name=action]").select_option("delete_selected")
    admin.locator("button[name=index]").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Delete multiple objects")
    admin.get_by_role("button", name="Yes, I’m sure").click()
    expect(admin.locator("ul.messagelist")).to_contain_text("Successfully deleted 1")

    # bob's open page drops the message without a reload; the other one stays.
    expect(bob.locator(f"#msg-{doomed.pk}")).to_have_count(0)
    expect(bob.locator("main")).not_to_contain_text("Buy cheap watches here")
    expect(messages(bob)).to_have_count(1)
    expect(bob.locator(f"#msg-{kept.pk}")).to_contain_text("Meeting moved to 3pm")
    assert_not_reloaded(bob)
    # And it stays gone for anyone who opens the room later.
    bob.reload()
    expect(messages(bob)).to_have_count(1)
    expect(bob.locator("main")).not_to_contain_text("Buy cheap watches here")


def test_composer_errors_keep_the_text(logged_in, make_user):
    from rooms import services

    in_thread(services.create_room, make_user("dave"), "Drafts")
    alice = logged_in("alice")
    alice.goto("/rooms/drafts/")
    wait_for_socket(alice)
    box = alice.locator("#composer textarea")
    status = alice.locator("#composer-status")

    too_long = ("All work and no play makes Jack a dull boy. " * 100)[:4001]
    assert len(too_long.strip()) == 4001
    box.fill(too_long)
    box.press("Enter")
    expect(status).to_be_visible()
    expect(status).to_contain_text("Message is too long")
    expect(status).to_contain_text("4,000")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(box).to_have_value(too_long)
    expect(messages(alice)).to_have_count(0)

    box.fill("")
    box.press("Enter")
    expect(status).to_have_text("Message is empty.")
    expect(status).to_be_visible()
    expect(box).to_have_value("")
    expect(messages(alice)).to_have_count(0)

    # A good send after the errors goes through and clears both the composer and the error.
    send(alice, "Short and sweet")
    expect(messages(alice)).to_have_count(1)
    expect(messages(alice).first).to_contain_text("Short and sweet")
    expect(box).to_have_value("")
    expect(status).to_be_hidden()
