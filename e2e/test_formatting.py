"""Formatting in the browser: alice writes Markdown, bob sees it formatted live (code coloured, links opening
apart, shortcodes as emoji), markup she types shows as text, her edit box holds what she typed, and the
composer's help lists the syntax."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import in_thread
from .support import messages, send, wait_for_socket
from .test_design import DESKTOP, alice_and_bob_in_launch, person

FORMATTED = "**ship it** _today_, see https://example.com/release :tada:\n```python\ndef go():\n    return True\n```"


def test_alice_writes_markdown_and_bob_sees_it_formatted_live(new_context, make_user):
    _, alice, bob = alice_and_bob_in_launch(new_context, make_user)

    # The syntax, one click away under the composer.
    alice.get_by_text("Formatting", exact=True).click()
    expect(alice.locator(".formatting-help")).to_contain_text("**bold**")

    send(alice, FORMATTED)
    body = messages(bob).last.locator(".body")
    expect(body.locator("strong")).to_have_text("ship it")
    expect(body.locator("em")).to_have_text("today")
    link = body.get_by_role("link", name="https://example.com/release")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener nofollow ugc")
    expect(body).to_contain_text("🎉")
    keyword = body.locator("pre span.k").first
    expect(keyword).to_have_text("def")
    assert keyword.evaluate("k => getComputedStyle(k).color") != body.locator("pre").evaluate(
        "p => getComputedStyle(p).color"
    )  # coloured

    # Markup typed into a message is shown, never run.
    send(alice, "<img src=x onerror=\"document.title='pwned'\"> <b>not bold</b>")
    expect(messages(bob).last.locator(".body")).to_have_text(re.compile(r"^<img src=x .*<b>not bold</b>$"))
    expect(messages(bob).last.locator(".body b")).to_have_count(0)
    assert bob.title() != "pwned"

    # Up in the empty composer edits her last message: as she typed it, not as it shows.
    alice.locator("#composer textarea").press("ArrowUp")
    edit_box = alice.locator("form.edit textarea")
    expect(edit_box).to_have_value("<img src=x onerror=\"document.title='pwned'\"> <b>not bold</b>")
    edit_box.fill("~~wrong~~ **right**")
    edit_box.press("Enter")
    expect(messages(bob).last.locator(".body s")).to_have_text("wrong")
    expect(messages(bob).last.locator(".body strong")).to_have_text("right")
    expect(messages(bob).last.locator(".edited")).to_be_visible()


def test_after_a_colon_and_two_letters_the_composer_suggests_emoji(new_context, make_user):
    from rooms import services

    room = in_thread(services.create_room, make_user("alice"), "Launch")
    alice = person(new_context, "alice", viewport=DESKTOP)
    alice.goto(f"/rooms/{room.slug}/")
    wait_for_socket(alice)
    box = alice.locator("#composer textarea")
    box.press_sequentially("Shipped :ta")
    suggestions = alice.get_by_role("listbox", name="Emoji")
    expect(suggestions.get_by_role("option").first).to_have_text("🎉 :tada:")
    expect(suggestions.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    box.press("Escape")  # closes the list, keeps the text
    expect(suggestions).to_be_hidden()
    expect(box).to_have_value("Shipped :ta")
    box.press_sequentially("d")
    expect(suggestions.get_by_role("option").first).to_have_text("🎉 :tada:")
    box.press("Enter")  # picks, does not send
    expect(box).to_have_value("Shipped 🎉 ")
    box.press("Enter")
    expect(messages(alice).last.locator(".body")).to_have_text("Shipped 🎉")
