"""Guards a person relies on without thinking: a long paste is not lost, logging out ends chat everywhere."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import in_thread


def _open_room(logged_in, make_user, username: str) -> Page:
    from rooms import services

    in_thread(services.create_room, make_user("dave"), "Drafts")
    page = logged_in(username)
    page.goto("/rooms/drafts/")
    page.wait_for_function("() => (window.__wsOpens || 0) > 0")
    return page


def test_a_very_long_paste_is_refused_but_kept_in_the_composer(logged_in, make_user):
    from rooms.models import Message

    alice = _open_room(logged_in, make_user, "alice")
    box = alice.locator("#composer textarea")
    huge = "x" * 40_000
    box.fill(huge)
    box.press("Enter")
    expect(alice.locator("#composer-status")).to_have_text(
        "Message is too long: 40,000 characters (the limit is 4,000)."
    )
    expect(box).to_have_value(huge)
    assert not Message.objects.exists()
    # And the socket is still fine for a normal message.
    box.fill("short and sweet")
    box.press("Enter")
    expect(alice.locator(".messages article.message[data-seq]")).to_contain_text("short and sweet")


def test_logging_out_in_one_tab_stops_chat_in_the_others(logged_in, make_user):
    from rooms.models import Message

    alice = _open_room(logged_in, make_user, "alice")
    other_tab = alice.context.new_page()
    other_tab.goto("/")
    other_tab.get_by_role("button", name="Log out").click()
    expect(other_tab).to_have_url(re.compile(r"/accounts/login/"))

    # The room tab is told at once, and its composer takes nothing more (e2e/test_drafts.py: what it held stays).
    expect(alice.locator("#connection")).to_have_text(
        "You have been signed out of chat. Reload the page to sign in again."
    )
    box = alice.locator("#composer textarea")
    expect(box).not_to_be_editable()
    box.evaluate("(box, text) => { box.value = text; box.form.requestSubmit(); }", "Sent from a tab after logging out")
    alice.reload()
    expect(alice).to_have_url(re.compile(r"/accounts/login/"))
    assert not Message.objects.filter(body="Sent from a tab after logging out").exists()
