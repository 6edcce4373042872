"""The look and the layout, as people use them: messages grouped by author with day dividers, the "⋯" menu,
the members panel, a phone's drawer and full-screen conversation, the keyboard (quick switcher, Up to edit,
Esc, Alt+arrows, "?"); and the README's screenshots, taken from a real conversation. test_looks.py goes through
the design in each of its four looks (desktop and phone, light and dark)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from .conftest import in_thread, instrument, login
from .support import MENU, messages, send, wait_for_socket

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def person(new_context, name: str, **options):
    context = new_context(**options)
    instrument(context)
    return login(context.new_page(), name)


def open_room(page, slug: str) -> None:
    page.goto(f"/rooms/{slug}/")
    wait_for_socket(page)


def alice_and_bob_in_launch(new_context, make_user):
    """The two-person scene of the message journeys: alice's room Launch, open on her page and on bob's."""
    from rooms import services

    room = in_thread(services.create_room, make_user("alice"), "Launch")
    make_user("bob")
    alice, bob = (person(new_context, name, viewport=DESKTOP) for name in ("alice", "bob"))
    for page in (alice, bob):
        open_room(page, room.slug)
    return room, alice, bob


def post(author, room, text: str, *, days_ago: int = 0):
    from rooms import services
    from rooms.models import Message

    message = in_thread(services.post_message, author, room.pk, text, uuid.uuid4()).message
    if days_ago:
        when = message.created_at - timedelta(days=days_ago)
        in_thread(lambda: Message.objects.filter(pk=message.pk).update(created_at=when))
    return message


def test_messages_group_by_author_under_day_dividers_with_one_menu_each(new_context, make_user):
    from rooms import services

    alice, bob = make_user("alice"), make_user("bob")
    room = in_thread(services.create_room, alice, "General")
    in_thread(services.join, bob, room)
    post(alice, room, "from long ago", days_ago=3)
    post(alice, room, "first")
    post(alice, room, "second, a moment later")
    post(bob, room, "bob answers")

    page = person(new_context, "alice", viewport=DESKTOP)
    open_room(page, "general")
    dividers = page.locator(".day-divider")
    expect(dividers).to_have_count(2)
    expect(dividers.nth(1)).to_have_text("Today")
    expect(dividers.nth(0)).not_to_have_text(re.compile("Today|Yesterday"))
    # One header per group: alice's second line today shows no name; bob's does; the old one starts a day.
    rows = messages(page)
    expect(rows.nth(1).locator(".author")).to_be_visible()
    expect(rows.nth(2)).to_have_class(re.compile(r"\bgrouped\b"))
    expect(rows.nth(2).locator(".author")).to_be_hidden()
    rows.nth(2).hover()  # a grouped line's time shows in the avatar's column, clear of its text
    time, text = rows.nth(2).locator(".permalink").bounding_box(), rows.nth(2).locator(".body").bounding_box()
    assert time["x"] + time["width"] <= text["x"], (time, text)
    expect(rows.nth(3).locator(".author")).to_have_text("bob")
    # A new line of mine arrives live and joins my group only if it follows mine: bob's came last.
    send(page, "and live")
    expect(rows.nth(4)).to_contain_text("and live")
    expect(rows.nth(4)).not_to_have_class(re.compile(r"\bgrouped\b"))
    # Each message has one "⋯" menu, not every action on every line (Reply, Add reaction, Edit, Delete,
    # Report); mine offers Edit, bob's Report.
    expect(rows.nth(4).locator("[role=menuitem]")).to_have_count(5)
    expect(page.get_by_role("menuitem", name="Edit").first).to_be_hidden()
    rows.nth(3).hover()
    rows.nth(3).get_by_role("button", name=MENU).click()
    expect(rows.nth(3).get_by_role("menuitem", name="Report")).to_be_visible()
    expect(rows.nth(3).get_by_role("menuitem", name="Edit")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(rows.nth(3).get_by_role("menuitem", name="Report")).to_be_hidden()
    # The members panel: everyone in the room, online or not.
    expect(page.locator("#members")).to_contain_text("alice")
    expect(page.locator("#members")).to_contain_text("bob")
    # A click on a name: the person's card, with a way to write to them.
    rows.nth(3).locator(".author").click()
    card = page.get_by_role("dialog", name="Profile")
    expect(card).to_contain_text("@bob")
    card.get_by_role("link", name="Message").click()
    expect(page).to_have_url(re.compile(r"/dm/bob/$"))


def test_on_a_phone_the_sidebar_is_a_drawer_and_nothing_scrolls_sideways(new_context, make_user):
    from rooms import services

    alice = make_user("alice")
    room = in_thread(services.create_room, alice, "General")
    in_thread(services.create_room, alice, "Random")
    post(alice, room, "a long line " * 30)
    for width in (390, 360):
        page = person(new_context, "alice", viewport={"width": width, "height": 780}, has_touch=True)
        open_room(page, "general")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        sidebar = page.locator("#sidebar")
        expect(sidebar).not_to_be_in_viewport()
        page.get_by_role("button", name="Rooms and people").click()
        expect(sidebar).to_be_in_viewport()
        sidebar.get_by_role("link", name="# Random").click()
        expect(page).to_have_url(re.compile(r"/rooms/random/$"))
        expect(page.get_by_role("link", name="Back to rooms")).to_be_visible()
        # The composer is one row with its button, and a message's actions sit behind its "⋯".
        box, button = page.locator("#composer textarea"), page.get_by_role("button", name="Send")
        assert abs(box.bounding_box()["y"] - button.bounding_box()["y"]) < 30
        page.context.close()


def test_the_keyboard_reaches_everything(new_context, make_user):
    from rooms import services

    alice = make_user("alice")
    make_user("gardener")
    general = in_thread(services.create_room, alice, "General")
    in_thread(services.create_room, alice, "Gardening")
    in_thread(services.create_room, alice, "Zebra")
    post(alice, general, "my last words")

    page = person(new_context, "alice", viewport=DESKTOP)
    open_room(page, "general")
    # Ctrl+K: the quick switcher, rooms and people by name; Enter opens the first.
    page.keyboard.press("Control+k")
    switcher = page.get_by_role("dialog", name="Go to a room or a person")
    expect(switcher).to_be_visible()
    page.keyboard.type("garden")
    expect(switcher.locator(".switch-results")).to_contain_text("# Gardening")
    expect(switcher.locator(".switch-results")).to_contain_text("@gardener")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/rooms/gardening/$"))
    wait_for_socket(page)
    # Alt+Down / Alt+Up: the next and previous conversation in the sidebar.
    page.keyboard.press("Alt+ArrowDown")
    expect(page).to_have_url(re.compile(r"/rooms/general/$"))
    wait_for_socket(page)
    # Up in the empty composer edits my last message; Esc cancels it and the composer has focus again.
    composer = page.locator("#composer textarea")
    composer.focus()
    page.keyboard.press("ArrowUp")
    edit_box = page.locator("form.edit textarea")
    expect(edit_box).to_be_focused()
    expect(edit_box).to_have_value("my last words")
    page.keyboard.press("Escape")
    expect(edit_box).to_have_count(0)
    expect(composer).to_be_focused()
    # "?" lists the shortcuts (not while typing).
    page.locator(f"#messages-{general.pk}").focus()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def share_a_chart(author, room) -> None:
    """A picture shared as the page shares it (uploaded, then sent), its thumbnail made as the worker makes it."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    from rooms import services

    chart = Image.new("RGB", (960, 480), "#f6f8fb")
    draw = ImageDraw.Draw(chart)
    for i, height in enumerate((140, 220, 180, 300, 260, 380)):
        draw.rectangle((80 + i * 140, 440 - height, 180 + i * 140, 440), fill=("#3358d4", "#12a594")[i % 2])
    draw.line((60, 440, 900, 440), fill="#596072", width=3)
    data = io.BytesIO()
    chart.save(data, "PNG")
    upload, _ = services.upload(author, room.pk, SimpleUploadedFile("load-test.png", data.getvalue()))
    services.post_message(author, room.pk, "Load test: p99 stays flat", uuid.uuid4(), files=[upload.pk])
    services.files.make_thumbnail.call(upload.pk)


def test_readme_screenshots_of_a_real_conversation(new_context, make_user):
    """Taken on every run from the running app: docs/screenshots/{light,dark}.png (and phone)."""
    from rooms import services

    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room = in_thread(services.create_room, alice, "General", "Everything about the launch")
    in_thread(services.create_room, bob, "Design")
    for who in (bob, carol):
        in_thread(services.join, who, room)
    for author, text in (
        (alice, "Morning! The release candidate is up on staging."),
        (bob, "Nice. I'll run the smoke tests now."),
        (bob, "All green: `make test` passes on **Chromium** and **Firefox** :tada:"),
    ):
        post(author, room, text)
    in_thread(share_a_chart, bob, room)
    for author, text in (
        (carol, "我看了一下中文界面，翻译都没问题。@alice"),
        (alice, 'Great, shipping at 3pm:\n```python\nVERSION = "2.0"  # formatting and emoji\n```'),
    ):
        last = post(author, room, text)

    def react_and_reply() -> None:  # a reply to the first message, and reactions on the last
        first = room.messages.order_by("seq").first()
        services.post_message(carol, room.pk, "Thanks, I'll check it on my phone.", uuid.uuid4(), reply_to=first.pk)
        for who, emoji in ((bob, "🚀"), (carol, "🚀"), (alice, "👍")):
            services.react(who, last.pk, emoji, True)

    in_thread(react_and_reply)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for name, viewport in (("", DESKTOP), ("-phone", PHONE)):
            page = person(new_context, "alice", viewport=viewport, color_scheme=scheme)
            open_room(page, "general")
            expect(messages(page)).to_have_count(7)
            expect(page.locator(".presence")).to_contain_text("Here now: alice")
            expect(page.locator(".attachment-image img")).to_have_js_property("complete", True)
            page.mouse.move(0, 0)
            page.screenshot(path=SCREENSHOTS / f"{scheme}{name}.png")
            page.context.close()
