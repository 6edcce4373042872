"""Notifications in Chromium, with the permission granted: bob's Roomcast tab is in the background (on another
room); alice mentions him in a room he muted, then in General. The task worker decides, his hidden page hands
the notice to the service worker, and the browser shows one system notification: General's, none for the
muted room. And the Notifications page: the device's state, turned on from its button, and the settings."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from .conftest import in_thread, instrument, login
from .support import send
from .test_design import open_room, person

HIDE = """() => {
  // What the browser does when another tab comes to the front (headless Chromium keeps every page visible).
  Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
  Object.defineProperty(document, "hidden", { get: () => true, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""

SHOWN = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  const shown = registration ? await registration.getNotifications() : [];
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url }));
}"""


def shown_on(page: Page, timeout: float = 15) -> list[dict]:
    """The system notifications the page's service worker shows, once there are any (the worker's pass comes
    a moment after the message)."""
    deadline = time.monotonic() + timeout
    while not (shown := page.evaluate(SHOWN)) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    return shown


def controlled(page: Page) -> None:
    """The service worker controls the page (it shows the notifications): from its first load, once active."""
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
        page.wait_for_function("() => !!navigator.serviceWorker.controller")


@pytest.mark.redis  # the worker reaches the server's sockets through Redis, as in production
def test_a_hidden_tab_is_notified_of_a_mention_and_not_of_a_muted_room(new_context, make_user, task_worker):
    from rooms import services

    alice, bob = make_user("alice"), make_user("bob")
    general = in_thread(services.create_room, alice, "General")
    quiet = in_thread(services.create_room, alice, "Quiet")
    elsewhere = in_thread(services.create_room, bob, "Elsewhere")
    for room in (general, quiet):
        in_thread(services.join, bob, room)
    in_thread(services.set_involvement, bob, general.pk, "mentions")
    in_thread(services.set_involvement, bob, quiet.pk, "nothing")

    context = new_context(permissions=["notifications"])
    # The Badging API, recorded (headless Chromium has no installed app to badge).
    context.add_init_script("navigator.setAppBadge = async (n) => { window.__badge = n; };")
    instrument(context)
    bobs = login(context.new_page(), "bob")
    open_room(bobs, elsewhere.slug)
    controlled(bobs)
    bobs.evaluate(HIDE)
    alices = person(new_context, "alice")

    open_room(alices, quiet.slug)
    send(alices, "@bob are you there? (in the muted room)")
    open_room(alices, general.slug)
    send(alices, "@bob the build is red")

    shown = shown_on(bobs)
    assert [n["tag"] for n in shown] == [f"room-{general.pk}"]
    (notice,) = shown
    assert notice["title"] == "alice mentioned you in #General"
    assert notice["body"] == "alice: @bob the build is red"
    assert notice["url"].startswith("/m/")
    assert bobs.evaluate("window.__badge") == 1  # General's mention; the muted room counts nothing


def test_the_notifications_page_turns_them_on_for_this_device(new_context, make_user):
    make_user("bob")
    page = person(new_context, "bob", permissions=["notifications"])
    page.get_by_role("link", name="Notifications").click()
    state = page.locator("#device-state")
    # No VAPID keys on the test server: on while a tab is open (Web Push would need them).
    expect(state).to_have_text("Notifications are on while a Roomcast tab is open.")
    expect(page.get_by_text("This server sends no Web Push yet")).to_be_visible()
    page.get_by_label("Keywords").fill("deploy, outage")
    page.get_by_label("Email me after (minutes)").fill("30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    expect(page.get_by_label("Keywords")).to_have_value("deploy\noutage")


def test_permission_is_asked_from_the_button_never_on_load(new_context, make_user):
    make_user("bob")
    page = person(new_context, "bob")  # no permission granted or denied yet
    page.goto("/notifications/")
    assert page.evaluate("() => Notification.permission") == "default"  # loading asked nothing
    expect(page.locator("#device-state")).to_have_text("Notifications are off for this device.")
    expect(page.get_by_role("button", name="Turn on notifications on this device")).to_be_visible()


def test_a_page_that_cannot_be_reached_shows_the_offline_page(new_context, make_user):
    make_user("bob")
    page = person(new_context, "bob")
    controlled(page)  # the service worker installed, with the offline page and its style sheet
    page.context.set_offline(True)
    page.goto("/people/")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"  # styled, from the cache
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Rooms", level=1)).to_be_visible()
