"""Mentions and reactions in the browser: alice picks bob from the suggestions after "@", bob sees the mention
badge in his sidebar and the message highlighted for him alone, reacts from the picker, and alice sees the
reaction arrive live; the Mentions page lists it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import in_thread
from .support import assert_not_reloaded, mark_page, message_action, messages, wait_for_socket
from .test_design import DESKTOP, person

HIGHLIGHTED = re.compile(r"\bmentions-me\b")


def test_alice_mentions_bob_who_sees_it_highlighted_and_reacts_and_alice_sees_it_live(new_context, make_user):
    from rooms import services

    alice_user, bob_user = make_user("alice"), make_user("bob")
    launch = in_thread(services.create_room, alice_user, "Launch")
    random = in_thread(services.create_room, bob_user, "Random")
    in_thread(services.join, bob_user, launch)
    alice, bob = (person(new_context, name, viewport=DESKTOP) for name in ("alice", "bob"))
    alice.goto(f"/rooms/{launch.slug}/")
    bob.goto(f"/rooms/{random.slug}/")  # bob is elsewhere when he is mentioned
    for page in (alice, bob):
        wait_for_socket(page)
        mark_page(page)

    # "@" and a letter: the room's people, picked from the keyboard.
    box = alice.locator("#composer textarea")
    box.press_sequentially("@b")
    people = alice.get_by_role("listbox", name="People to mention")
    expect(people.get_by_role("option").first).to_have_text("bob @bob")
    box.press("Enter")  # picks, does not send
    expect(box).to_have_value("@bob ")
    box.press_sequentially("can you check the release notes?")
    box.press("Enter")

    # Bob, in another room: a mention badge beside the unread count.
    expect(bob.locator(f"#mentions-{launch.pk}")).to_have_text("@1")
    expect(bob.locator(f"#unread-{launch.pk}")).to_have_text("1")
    bob.locator(f"#room-{launch.pk} a").click()
    wait_for_socket(bob)
    message = messages(bob).last
    expect(message).to_have_class(HIGHLIGHTED)
    mention = message.locator(".body a.mention")
    expect(mention).to_have_text("@bob")
    expect(bob.locator(f"#mentions-{launch.pk}")).to_be_empty()  # read now
    # Highlighted for bob only: alice wrote it.
    expect(messages(alice).last).not_to_have_class(HIGHLIGHTED)

    # Bob reacts from the picker: the usual few, or any emoji by name.
    mark_page(bob)
    message_action(bob, message, "Add reaction")
    picker = bob.get_by_role("dialog", name="Add reaction")
    picker.get_by_role("searchbox").fill("fire")
    # On the last message it opens upward: all of it inside the message list, none cut off at its bottom.
    expect(picker.get_by_role("button", name="🔥 :fire:")).to_be_visible()
    shown, room = picker.bounding_box(), bob.locator(f"#messages-{launch.pk}").bounding_box()
    assert room["y"] <= shown["y"] and shown["y"] + shown["height"] <= room["y"] + room["height"] + 1
    picker.get_by_role("button", name="🔥 :fire:").click()
    expect(picker).to_be_hidden()
    mine = message.locator(".reaction", has_text="🔥")
    expect(mine).to_have_attribute("aria-pressed", "true")

    # Alice sees it arrive, with who reacted; not pressed for her.
    theirs = messages(alice).last.locator(".reaction", has_text="🔥")
    expect(theirs).to_contain_text("1")
    expect(theirs).to_have_attribute("title", "bob reacted with 🔥")
    expect(theirs).to_have_attribute("aria-pressed", "false")
    theirs.click()  # alice adds hers to it
    expect(mine).to_contain_text("2")
    mine.click()  # bob takes his back
    expect(theirs).to_contain_text("1")
    expect(theirs).to_have_attribute("title", "alice reacted with 🔥")
    expect(theirs).to_have_attribute("aria-pressed", "true")
    for page in (alice, bob):
        assert_not_reloaded(page)

    # A reaction arriving while alice edits her message leaves her edit as it was.
    alice.locator("#composer textarea").press("ArrowUp")
    edit_box = alice.locator("form.edit textarea")
    edit_box.fill("@bob can you check the release notes today?")
    message.locator(".reaction", has_text="🔥").click()  # bob reacts again
    expect(messages(alice).last.locator(".reaction", has_text="🔥")).to_contain_text("2")
    expect(edit_box).to_have_value("@bob can you check the release notes today?")
    expect(edit_box).to_be_focused()
    edit_box.press("Enter")
    expect(message.locator(".body")).to_contain_text("today?")

    # The Mentions page: the message, with its link.
    bob.get_by_role("link", name="Mentions").click()
    item = bob.locator(".mention-item").first
    expect(item).to_contain_text("can you check the release notes today?")
    message_id = messages(alice).last.get_attribute("id")
    item.locator("a.permalink").click()
    expect(bob.locator(f"#{message_id}")).to_be_visible()


def test_a_chinese_name_is_found_after_at_and_here_is_refused_in_a_big_room(new_context, make_user):
    from accounts.models import Profile
    from rooms import services

    alice_user, zhang = make_user("alice"), make_user("zhangwei")
    in_thread(Profile.objects.update_or_create, user=zhang, defaults={"display_name": "张伟"})
    room = in_thread(services.create_room, alice_user, "Team")
    in_thread(services.join, zhang, room)
    room.here_limit = 1
    in_thread(room.save)
    alice = person(new_context, "alice", viewport=DESKTOP)
    alice.goto(f"/rooms/{room.slug}/")
    wait_for_socket(alice)
    box = alice.locator("#composer textarea")
    box.press_sequentially("请@张")
    option = alice.get_by_role("listbox", name="People to mention").get_by_role("option").first
    expect(option).to_have_text("张伟 @zhangwei")
    option.click()
    box.press_sequentially("看一下")
    box.press("Enter")
    expect(messages(alice).last.locator(".body a.mention")).to_have_text("@zhangwei")

    box.fill("@here lunch?")
    box.press("Enter")
    # Refused, with why; what she wrote stays on the page, to send again or copy.
    stuck = alice.locator(".messages .pending.stuck")
    expect(stuck.locator(".body")).to_have_text("@here lunch?")
    expect(stuck.locator(".pending-note")).to_contain_text("at most 1 member; this one has 2.")
