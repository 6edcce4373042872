"""Replies in the browser: bob answers alice's message from its menu, alice sees the quote arrive live and
it takes her to the message it answers; a quote of a message far back in the history loads it."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from .conftest import in_thread
from .support import message_action, messages, send, wait_for_socket
from .test_design import DESKTOP, alice_and_bob_in_launch, person


def test_bob_replies_from_the_menu_and_alice_sees_the_quote_live(new_context, make_user):
    room, alice, bob = alice_and_bob_in_launch(new_context, make_user)
    send(alice, "**Friday** or Monday?\nThe notes are ready either way.")
    asked = messages(bob).last
    expect(asked.locator(".body strong")).to_have_text("Friday")

    message_action(bob, asked, "Reply")
    bar = bob.locator("#composer-reply")
    expect(bar).to_contain_text("Replying to alice: Friday or Monday?")
    bar.get_by_role("button", name="Cancel reply").click()  # changed his mind…
    expect(bar).to_be_hidden()
    message_action(bob, asked, "Reply")  # …and back
    send(bob, "Friday works")
    expect(bar).to_be_hidden()

    reply = messages(alice).last
    quote = reply.get_by_role("link", name=re.compile("In reply to alice Friday or Monday?"))
    expect(quote).to_be_visible()
    expect(reply.locator(".body")).to_have_text("Friday works")
    quote.click()  # on this page: it goes there, no navigation
    expect(messages(alice).first).to_have_class(re.compile(r"\bflash\b"))
    expect(messages(alice).first).to_be_focused()
    assert alice.url.endswith(f"/rooms/{room.slug}/")

    # Alice deletes what bob answered: every open page's quote says so at once.
    alice.once("dialog", lambda dialog: dialog.accept())
    message_action(alice, messages(alice).first, "Delete")
    expect(bob.locator(".message > .reply")).to_have_text("Replying to a message that was deleted")
    expect(bob.locator(".message", has_text="Friday works")).not_to_contain_text("Monday")


def test_a_quote_of_a_message_far_back_loads_it(new_context, make_user):
    from rooms import services

    alice_user, bob_user = make_user("alice"), make_user("bob")
    room = in_thread(services.create_room, alice_user, "History")

    def fill() -> int:
        first = services.post_message(alice_user, room.pk, "the very first plan", uuid.uuid4()).message
        for n in range(services.PAGE_SIZE + 10):
            services.post_message(alice_user, room.pk, f"filler {n}", uuid.uuid4())
        services.post_message(bob_user, room.pk, "back to the plan", uuid.uuid4(), reply_to=first.pk)
        return first.pk

    first_id = in_thread(fill)
    bob = person(new_context, "bob", viewport=DESKTOP)
    bob.goto(f"/rooms/{room.slug}/")
    wait_for_socket(bob)
    expect(bob.locator(f"#msg-{first_id}")).to_have_count(0)  # not loaded
    bob.locator(".message .reply", has_text="the very first plan").click()
    expect(bob.locator(f"#msg-{first_id}")).to_be_in_viewport()
    expect(bob).to_have_url(re.compile(rf"#msg-{first_id}$"))
