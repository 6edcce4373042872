"""The design in each of its four looks: a desktop (1280x800) and a phone (390x844, touch), each light and
dark. One room as alice reads it: her theme, nothing scrolling sideways, day dividers, messages grouped by
author with initials on a colour, the time of a grouped line, the jump to the first unread message, the "⋯"
menu, "(edited)" arriving live, the members panel's dots as bob comes and goes, a composer that grows; a
newcomer's first screen, in the default room; the "new messages below" pill, and the unread count in the tab's
title and icon."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import in_thread, instrument
from .support import MENU, messages, wait_for_socket
from .test_design import DESKTOP, PHONE, open_room, person, post

LOOKS = {
    "desktop-light": {"viewport": DESKTOP, "color_scheme": "light"},
    "desktop-dark": {"viewport": DESKTOP, "color_scheme": "dark"},
    "phone-light": {"viewport": PHONE, "color_scheme": "light", "has_touch": True, "is_mobile": True},
    "phone-dark": {"viewport": PHONE, "color_scheme": "dark", "has_touch": True, "is_mobile": True},
}


@pytest.fixture(params=LOOKS)
def look(request) -> dict:
    return LOOKS[request.param]


def is_dark(page) -> bool:
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    return sum(int(c) for c in re.findall(r"\d+", background)[:3]) / 3 < 80


def test_a_room_in_every_look(new_context, make_user, look):
    from rooms import services

    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room = in_thread(services.create_room, alice, "General", "Everything about the launch")
    for who in (bob, carol):
        in_thread(services.join, who, room)
    post(alice, room, "from three days ago", days_ago=3)
    post(alice, room, "first today")
    post(alice, room, "a moment later")
    answer = post(bob, room, "bob answers, unread for alice")

    page = person(new_context, "alice", **look)
    open_room(page, "general")
    phone = look["viewport"] is PHONE
    assert is_dark(page) == (look["color_scheme"] == "dark")
    assert page.evaluate("document.documentElement.scrollWidth") <= look["viewport"]["width"]
    expect(page.get_by_role("heading", name="# General")).to_be_visible()
    expect(page.get_by_text("Everything about the launch")).to_be_visible()
    if phone:
        expect(page.get_by_role("link", name="Back to rooms")).to_be_visible()

    # Day dividers; one header per run of one author's lines; initials on the author's own colour.
    expect(page.locator(".day-divider")).to_have_count(2)
    expect(page.locator(".day-divider").nth(1)).to_have_text("Today")
    rows = messages(page)
    expect(rows).to_have_count(4)
    # A few messages sit at the bottom, just above the composer.
    timeline, last = page.locator(".messages").bounding_box(), rows.last.bounding_box()
    assert timeline["y"] + timeline["height"] - (last["y"] + last["height"]) < 40
    expect(rows.nth(2)).to_have_class(re.compile(r"\bgrouped\b"))
    expect(rows.nth(2).locator(".author")).to_be_hidden()
    expect(rows.nth(3).locator(".author")).to_have_text("bob")
    expect(rows.nth(3).locator(".avatar")).to_have_text("B")
    expect(rows.nth(3).locator(".avatar")).to_have_class(re.compile(r"\bavatar-c\d\b"))
    # A grouped line's time: in the gutter when the line is pointed at or focused, the full date in its title.
    grouped_time = rows.nth(2).locator("time")
    expect(grouped_time).to_have_attribute("title", re.compile(r"\d"))
    if phone:
        rows.nth(2).focus()
    else:
        rows.nth(2).hover()
    expect(grouped_time).to_have_css("opacity", "1")

    # The jump to where alice stopped reading.
    page.get_by_role("link", name="Jump to the first unread message").click()
    expect(page.locator("#unread-divider")).to_be_in_viewport()
    expect(rows.nth(3)).to_be_in_viewport()

    # One "⋯" per message: on a touch screen always there, on a desktop when the message is pointed at.
    toggle = rows.nth(3).get_by_role("button", name=MENU)
    if phone:
        expect(toggle).to_be_visible()
    else:
        page.mouse.move(0, 0)
        expect(toggle).to_be_hidden()
        rows.nth(3).hover()
    toggle.click()
    expect(rows.nth(3).get_by_role("menuitem", name="Report")).to_be_visible()
    expect(rows.nth(3).get_by_role("menuitem", name="Edit")).to_be_hidden()
    page.keyboard.press("Escape")

    # A tap on bob's picture: his card, as a tap on his name gives.
    rows.nth(3).locator(".avatar").click()
    card = page.get_by_role("dialog", name="Profile")
    expect(card).to_contain_text("@bob")
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()

    # bob fixes his message: alice sees "(edited)" at once.
    in_thread(services.edit_message, bob, answer.pk, "bob answers, fixed")
    expect(rows.nth(3)).to_contain_text("bob answers, fixed")
    expect(rows.nth(3).locator(".edited")).to_have_text("(edited)")

    # The members panel: bob's dot comes on when he opens any page, and goes off when he leaves.
    if phone:
        page.get_by_role("button", name="3 members").click()
    panel = page.get_by_role("complementary", name="Members")
    expect(panel).to_be_visible()
    bobs_dot = panel.locator(f".dot-u-{bob.pk}")
    expect(bobs_dot).not_to_have_class(re.compile(r"\bonline\b"))
    bobs_page = person(new_context, "bob", viewport=DESKTOP)
    wait_for_socket(bobs_page)
    expect(bobs_dot).to_have_class(re.compile(r"\bonline\b"))
    bobs_page.context.close()
    expect(bobs_dot).not_to_have_class(re.compile(r"\bonline\b"))
    if phone:  # lying over the conversation, it closes by its own button
        panel.get_by_role("button", name="Close the members list").click()
        expect(panel).to_be_hidden()
        expect(page.get_by_role("button", name="3 members")).to_be_focused()

    # The composer grows with what is written (Shift+Enter makes a new line) and sends on Enter.
    box = page.locator("#composer textarea")
    one_line = box.bounding_box()["height"]
    box.click()
    for line in ("one", "two", "three", "four"):
        page.keyboard.type(line)
        page.keyboard.press("Shift+Enter")
    assert box.bounding_box()["height"] > one_line * 1.5
    page.keyboard.press("Enter")
    expect(rows.nth(4)).to_contain_text("four")
    expect(box).to_have_value("")
    assert page.evaluate("document.documentElement.scrollWidth") <= look["viewport"]["width"]


def test_a_newcomer_starts_in_the_default_room(new_context, make_user, look):
    from rooms import services
    from rooms.models import Room

    alice = make_user("alice")
    lobby = in_thread(services.create_room, alice, "Lobby", "Say hello and find your way around")
    in_thread(lambda: Room.objects.filter(pk=lobby.pk).update(is_default=True))
    post(alice, lobby, "Welcome aboard!")

    context = new_context(**look)
    instrument(context)
    page = context.new_page()
    page.goto("/accounts/signup/")
    form = page.locator("form", has=page.locator("input[name=password2]"))
    form.locator("input[name=username]").fill("newcomer")
    form.locator("input[name=email]").fill("newcomer@example.com")
    form.locator("input[name=password1]").fill("correct-horse-battery")
    form.locator("input[name=password2]").fill("correct-horse-battery")
    form.get_by_role("button", name="Sign Up").click()
    expect(page).to_have_url(re.compile(r"/rooms/lobby/$"))
    expect(messages(page).locator(".body")).to_have_text(["Welcome aboard!"])
    assert is_dark(page) == (look["color_scheme"] == "dark")
    if look["viewport"] is PHONE:
        page.get_by_role("button", name="Rooms and people").click()
    expect(page.locator("#room-list")).to_contain_text("# Lobby")


def test_new_messages_below_and_the_unread_count_in_the_tab_and_its_icon(new_context, make_user, look):
    from rooms import services

    alice, bob = make_user("alice"), make_user("bob")
    general = in_thread(services.create_room, alice, "General")
    elsewhere = in_thread(services.create_room, alice, "Elsewhere")
    in_thread(services.join, bob, general)
    in_thread(services.join, bob, elsewhere)
    for n in range(40):
        post(alice, general, f"line {n}")

    page = person(new_context, "alice", **look)
    open_room(page, "general")
    icon = page.locator("link[rel=icon]")
    plain = icon.get_attribute("href")  # nothing unread
    page.locator(f"#messages-{general.pk}").evaluate("m => m.scrollTop = 0")  # reading back
    post(bob, general, "something new")
    pill = page.get_by_role("button", name="New messages below")
    expect(pill).to_be_visible()
    pill.click()
    expect(page.locator(".messages article", has_text="something new")).to_be_in_viewport()
    expect(pill).to_be_hidden()
    # A message in another room: its count in the sidebar, in the tab's title, and a badge on its icon.
    post(bob, elsewhere, "over here")
    expect(page).to_have_title(re.compile(r"^\(1\) #General"))
    expect(icon).not_to_have_attribute("href", plain)
    # "Mark all read" (in the drawer on a phone): every count gone, the title's and the icon's with them.
    if look["viewport"] is PHONE:
        page.get_by_role("button", name="Rooms and people").click()
    page.get_by_role("button", name="Mark all read").click()
    expect(page).to_have_title(re.compile(r"^#General"))
    expect(page.locator(f"#unread-{elsewhere.pk}")).to_be_empty()
    expect(icon).to_have_attribute("href", plain)
