"""Search in the browser: alice types in the header's box, reads her results with what matched highlighted,
goes through them with the keyboard and opens one, landing on the message in its room; "/" reaches the box
from a room's page, but in the composer it is just a slash."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import in_thread
from .support import wait_for_socket


def scene(make_user) -> dict:
    """bob's room with alice in it, older talk about a release, and their conversation."""
    from rooms import services
    from rooms.models import Message

    User = get_user_model()
    alice, bob = User.objects.get(username="alice"), make_user("bob")

    def build() -> dict:
        general = services.create_room(bob, "General")
        services.join(alice, general)
        now, posted = timezone.now(), {}
        for days_ago, room, text in [
            (9, general, "Lunch on the terrace?"),
            (5, general, "The release is on Friday"),
            (3, general, "Rereleased the mobile app"),
            (1, services.direct_room(alice, bob), "Release notes are in the shared drive"),
            (0, general, "Coffee first"),
        ]:
            message = services.post_message(bob, room.pk, text, uuid.uuid4()).message
            Message.objects.filter(pk=message.pk).update(created_at=now - dt.timedelta(days=days_ago))
            posted[text] = message
        return posted

    return in_thread(build)


def test_alice_searches_from_the_header_and_opens_a_result_by_keyboard(logged_in, make_user):
    alice = logged_in("alice")
    posted = scene(make_user)

    box = alice.get_by_role("searchbox", name="Search messages, people and rooms")
    box.fill("release")
    box.press("Enter")
    expect(alice).to_have_url(re.compile(r"/search/\?q=release$"))
    expect(box).to_have_value("release")  # kept, to change
    results = alice.locator(".search-hit")
    # Whole words first, newest first among them; then "Rereleased", where it is part of a word.
    expect(results).to_have_text(
        [
            re.compile(r"bob\s+in your conversation with bob.*Release notes are in the shared drive", re.S),
            re.compile(r"bob\s+in #General.*The release is on Friday", re.S),
            re.compile(r"Rereleased the mobile app"),
        ]
    )
    expect(results.locator("mark")).to_have_text(["Release", "release", "release"])
    expect(alice.get_by_text("3 messages match.")).to_be_visible()

    # Down from the page to the first result, down again, up again: each in turn focused (and shown so).
    links = alice.locator("[data-result]")
    alice.keyboard.press("ArrowDown")
    expect(links.nth(0)).to_be_focused()
    alice.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    alice.keyboard.press("ArrowDown")
    alice.keyboard.press("ArrowUp")
    expect(links.nth(1)).to_be_focused()
    expect(results.nth(1)).to_have_css("background-color", re.compile(r"rgb\(232, 236, 252\)"))  # --accent-soft
    alice.keyboard.press("Escape")
    expect(box).to_be_focused()
    alice.keyboard.press("ArrowDown")
    alice.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()

    # Enter opens it: the room, at the message, highlighted.
    friday = posted["The release is on Friday"]
    alice.keyboard.press("Enter")
    expect(alice).to_have_url(re.compile(rf"/rooms/general/\?around={friday.seq}#msg-{friday.pk}$"))
    expect(alice.locator(f"#msg-{friday.pk}")).to_have_class(re.compile(r"\bhighlight\b"))
    expect(alice.locator(f"#msg-{friday.pk}")).to_be_in_viewport()


def test_slash_goes_to_the_search_box_but_types_a_slash_in_the_composer(logged_in, make_user):
    alice = logged_in("alice")
    scene(make_user)
    alice.goto("/rooms/general/")
    wait_for_socket(alice)
    composer = alice.locator("#composer textarea")
    composer.press_sequentially("and/or")
    expect(composer).to_have_value("and/or")
    alice.locator(".messages").click()  # out of the composer, onto the conversation
    alice.keyboard.press("/")
    box = alice.get_by_role("searchbox", name="Search messages, people and rooms")
    expect(box).to_be_focused()
    alice.keyboard.type("部署")
    expect(box).to_have_value("部署")  # the slash opened the box, and is not in it
