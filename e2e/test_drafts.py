"""What a person writes is never lost: a half-written message waits in each conversation's composer across room
switches and reloads; a refused send stays as its own message (never merged back into the composer) with Send
again, Copy and Dismiss; flood control's refusals go again by themselves, in order; and a page signed out
elsewhere stops taking text but keeps everything unsent to copy, and offers it again after signing in."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from rooms import services

from .conftest import _make_user, in_thread, instrument, login
from .support import messages, send, wait_for_socket
from .wire import Wire


def composer(page: Page):
    return page.locator("#composer textarea")


def bodies(page: Page):
    return messages(page).locator(".body")


def open_room(page: Page, slug: str) -> None:
    page.goto(f"/rooms/{slug}/")
    wait_for_socket(page)


def stored() -> list[str]:
    from rooms.models import Message

    return list(Message.objects.order_by("seq").values_list("body", flat=True))


def test_a_half_written_message_waits_in_its_own_room_across_switches_and_reloads(logged_in):
    alice = logged_in("alice")
    bob = _make_user("bob")  # for a direct conversation, further down
    dave = _make_user("dave")
    for name in ("General", "Random"):
        in_thread(services.create_room, dave, name)

    open_room(alice, "general")
    composer(alice).fill("half a thought for General")
    open_room(alice, "random")
    expect(composer(alice)).to_have_value("")  # each room its own
    composer(alice).fill("line one\nline two for Random")
    open_room(alice, "general")
    expect(composer(alice)).to_have_value("half a thought for General")
    alice.reload()
    expect(composer(alice)).to_have_value("half a thought for General")
    open_room(alice, "random")
    expect(composer(alice)).to_have_value("line one\nline two for Random")

    # Sent: gone from the composer for good. Emptied: gone too.
    composer(alice).press("Enter")
    expect(bodies(alice)).to_have_text(["line one\nline two for Random"], use_inner_text=True)
    expect(composer(alice)).to_have_value("")
    alice.reload()
    expect(composer(alice)).to_have_value("")
    open_room(alice, "general")
    composer(alice).fill("")
    alice.reload()
    expect(composer(alice)).to_have_value("")

    # Before a direct conversation exists its page is a plain form: the draft waits there too, and the first
    # message (posted) takes it along.
    alice.goto(f"/dm/{bob.username}/")
    composer(alice).fill("hello bob, about tomorrow")
    open_room(alice, "general")
    alice.goto(f"/dm/{bob.username}/")
    expect(composer(alice)).to_have_value("hello bob, about tomorrow")
    composer(alice).press("Enter")
    expect(bodies(alice)).to_have_text(["hello bob, about tomorrow"])
    expect(composer(alice)).to_have_value("")
    alice.reload()
    expect(composer(alice)).to_have_value("")
    assert stored() == ["line one\nline two for Random", "hello bob, about tomorrow"]

    # Logging out here is leaving this browser: the drafts go too.
    open_room(alice, "general")
    composer(alice).fill("not for the next person at this computer")
    alice.get_by_role("button", name="Log out").click()
    login(alice, "alice")
    open_room(alice, "general")
    expect(composer(alice)).to_have_value("")


def test_refused_sends_stay_as_themselves_in_order_with_send_again_copy_and_dismiss(logged_in, make_user):
    from rooms.models import Room

    room = in_thread(services.create_room, make_user("dave"), "General")
    alice = logged_in("alice")
    alice.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_room(alice, "general")
    send(alice, "before the lock")
    expect(bodies(alice)).to_have_text(["before the lock"])

    # Locked behind the page's back (no frame tells it): each send is refused with the reason.
    Room.objects.filter(pk=room.pk).update(locked=True)
    for text in ("first refused", "second refused"):
        send(alice, text)
    stuck = alice.locator(".messages .pending.stuck")
    expect(stuck).to_have_count(2)
    expect(stuck.locator(".body")).to_have_text(["first refused", "second refused"])
    for item in (stuck.first, stuck.last):
        expect(item).to_contain_text("not sent")
        expect(item.locator(".pending-note")).to_have_text(
            "This room is locked by a moderator; you can read but not write."
        )
    expect(composer(alice)).to_have_value("")  # never merged back into the composer
    # Still refused after a reload: they come back as themselves, not sent.
    alice.reload()
    wait_for_socket(alice)
    expect(stuck.locator(".body")).to_have_text(["first refused", "second refused"])
    expect(composer(alice)).to_have_value("")

    stuck.last.get_by_role("button", name="Copy").click()
    expect(stuck.last.get_by_role("button", name="Copied")).to_be_visible()
    assert alice.evaluate("navigator.clipboard.readText()") == "second refused"

    Room.objects.filter(pk=room.pk).update(locked=False)
    stuck.first.get_by_role("button", name="Send again").click()
    expect(bodies(alice)).to_have_text(["before the lock", "first refused"])
    stuck.last.get_by_role("button", name="Dismiss").click()
    expect(alice.locator(".messages .pending")).to_have_count(0)
    alice.reload()
    expect(alice.locator(".messages .pending")).to_have_count(0)
    assert stored() == ["before the lock", "first refused"]


def test_sends_flood_control_refuses_anyway_go_again_by_themselves_in_order(logged_in, make_user):
    """The page paces itself below the server's limit, but a new page does not know what the last one sent:
    the server's "not yet" holds each send, as itself, until its wait is over."""
    in_thread(services.create_room, make_user("dave"), "General")
    alice = logged_in("alice")
    open_room(alice, "general")
    first = [f"quick {n}" for n in range(1, 11)]
    for text in first:
        send(alice, text)
    expect(bodies(alice)).to_have_count(10)
    alice.reload()  # a fresh page: its pacing starts from a full bucket, the server's is empty
    wait_for_socket(alice)
    later = ["after the reload 1", "after the reload 2", "after the reload 3"]
    for text in later:
        send(alice, text)
    expect(alice.locator("#composer-status")).to_contain_text("too fast")
    expect(alice.locator(".messages .pending").first).to_contain_text("waiting…")
    expect(bodies(alice)).to_have_text(first + later, timeout=10_000)
    expect(alice.locator(".messages .pending")).to_have_count(0)
    assert stored() == first + later


@pytest.fixture
def context_on(browser, browser_context_args):
    """context_on(url): a browser context whose paths resolve against `url`; closed after the test."""
    contexts = []

    def _context_on(url: str):
        contexts.append(browser.new_context(**{**browser_context_args, "base_url": url}))
        return contexts[-1]

    yield _context_on
    for context in contexts:
        context.close()


def test_signed_out_elsewhere_the_composer_stops_and_keeps_what_was_unsent(context_on, asgi_live_server, make_user):
    """Two real browsers: bob reads the room; alice's network is down while she writes, and meanwhile she is
    signed out from another tab. Back online her page learns it (4401): nothing goes out, and what she wrote
    stays there, to copy or to send once she has signed in again."""
    from rooms.models import Message

    with Wire(asgi_live_server.url) as wire:
        alice_user, bob_user = make_user("alice"), make_user("bob")
        room = in_thread(services.create_room, alice_user, "General")
        in_thread(services.join, bob_user, room)
        in_thread(services.post_message, bob_user, room.pk, "anyone there?", uuid.uuid4())

        def signed_in(url: str, username: str) -> Page:
            context = context_on(url)
            instrument(context)
            page = login(context.new_page(), username)
            open_room(page, "general")
            return page

        alice = signed_in(wire.url, "alice")
        bob = signed_in(asgi_live_server.url, "bob")

        wire.cut()
        expect(alice.locator("#connection")).to_contain_text("Reconnecting")
        send(alice, "written while offline")
        composer(alice).fill("and a half-written thought")
        # Her other tab (same browser, same session: cookies go by host) logs out.
        other_tab = alice.context.new_page()
        other_tab.goto(asgi_live_server.url + "/")
        other_tab.get_by_role("button", name="Log out").click()
        expect(other_tab).to_have_url(re.compile(r"/accounts/login/"))
        other_tab.close()

        wire.plug_in()
        expect(alice.locator("#connection")).to_have_text(
            "You have been signed out of chat. Reload the page to sign in again."
        )
        expect(alice.locator("#composer-closed")).to_have_text(
            "You were signed out, so this page cannot send. What you wrote stays here to copy; reload the page to"
            " sign in again."
        )
        expect(composer(alice)).not_to_be_editable()
        expect(composer(alice)).to_have_value("and a half-written thought")  # kept, selectable
        expect(alice.locator("#composer button[type=submit]")).to_be_disabled()
        unsent = alice.locator(".messages .pending")
        expect(unsent.locator(".body")).to_have_text(["written while offline"])
        expect(unsent).to_contain_text("not sent")
        expect(unsent.get_by_role("button", name="Copy")).to_be_enabled()
        expect(unsent.get_by_role("button", name="Send again")).to_be_disabled()
        assert not Message.objects.filter(author=alice_user).exists()
        expect(bodies(bob)).to_have_text(["anyone there?"])

        # Signed in again, it is all there: the draft in the composer, the unsent message to send again.
        login(alice, "alice")
        open_room(alice, "general")
        expect(composer(alice)).to_have_value("and a half-written thought")
        unsent.get_by_role("button", name="Send again").click()
        for page in (alice, bob):
            expect(bodies(page)).to_have_text(["anyone there?", "written while offline"])
        expect(unsent).to_have_count(0)
        assert Message.objects.filter(author=alice_user).count() == 1
