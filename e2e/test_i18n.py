"""Roomcast for a reader of Simplified Chinese: a zh-CN Chromium in Shanghai time sees sign-in, the room list,
a room and Django admin in Chinese, its time zone reaches the account by itself, and the language menu switches
to English for good; a message pushed live reaches a Chinese and an English reader each in their own language
and time zone."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from .conftest import admin_login, in_thread, instrument, submit_login
from .support import messages, send, wait_for_socket

CHINESE_BROWSER = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def test_a_chinese_browser_sees_roomcast_in_chinese_until_it_switches_to_english(new_context, make_user):
    from accounts.models import Profile
    from rooms import services
    from rooms.models import Message

    alice = make_user("alice")
    room = in_thread(services.create_room, alice, "General")
    message = in_thread(services.post_message, alice, room.pk, "早上好", uuid.uuid4()).message
    Message.objects.filter(pk=message.pk).update(created_at=datetime(2026, 11, 28, 1, 5, tzinfo=UTC))

    context = new_context(**CHINESE_BROWSER)
    instrument(context)
    page = context.new_page()
    html = page.locator("html")

    # Signing in: allauth's page, in the browser's language.
    page.goto("/accounts/login/")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    # The first signed-in page tells the account the browser's zone (static/js/timezone.js).
    with page.expect_response(lambda r: r.url.endswith("/accounts/preferences/time-zone/")) as told:
        submit_login(page, "alice")
    assert told.value.status == 204
    assert Profile.objects.get(user=alice).time_zone == "Asia/Shanghai"

    # The room list.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_have_text("房间")
    expect(page.get_by_role("button", name="创建房间")).to_be_visible()
    expect(page.locator("aside")).to_contain_text("私信")

    # A room: its words in Chinese, its times in Shanghai's (01:05 UTC).
    page.get_by_role("link", name="# General").first.click()
    expect(page).to_have_url(re.compile(r"/rooms/general/$"))
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("button", name="发送")).to_be_visible()
    expect(page.locator(f"#msg-{message.pk}")).to_contain_text("早上好")
    expect(page.locator(f"#msg-{message.pk} time")).to_have_text("09:05")

    # The language menu: English, on this page, and still after a reload (kept on the account).
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page).to_have_url(re.compile(r"/rooms/general/$"))
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    page.reload()
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("header.topbar")).to_contain_text("Rooms")
    expect(page.get_by_label("Language")).to_have_value("en")
    assert Profile.objects.get(user=alice).language == "en"


def test_django_admin_in_chinese(new_context, make_user):
    make_user("admin", superuser=True)
    page = admin_login(partial(new_context, **CHINESE_BROWSER), "admin", "/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="站点管理")).to_be_visible()
    page.get_by_role("link", name="用户", exact=True).first.click()
    expect(page.get_by_role("heading", name="选择 用户 来修改")).to_be_visible()


def test_one_message_reaches_an_english_and_a_chinese_reader_each_in_their_language_and_zone(new_context, make_user):
    """bob (English, New York) writes; alice (Chinese, Shanghai) has the room open: the message is pushed to
    both live, rendered once per language, and each page shows its reader's words and time."""
    from rooms import services
    from rooms.models import Message

    alice, bob = make_user("alice"), make_user("bob")
    room = in_thread(services.create_room, alice, "General")
    in_thread(services.join, bob, room)

    pages = {}
    for name, browser in (("alice", CHINESE_BROWSER), ("bob", {"locale": "en-US", "timezone_id": "America/New_York"})):
        context = new_context(**browser)
        instrument(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        with page.expect_response(lambda r: r.url.endswith("/accounts/preferences/time-zone/")):
            submit_login(page, name)  # the first page tells the account its zone
        page.goto("/rooms/general/")
        wait_for_socket(page)
        pages[name] = page

    send(pages["bob"], "good morning")
    expect(messages(pages["bob"]).filter(has_text="good morning")).to_have_count(1)  # stored
    message = in_thread(lambda: Message.objects.get(body="good morning"))
    for name, zone, link, report in (
        ("alice", "Asia/Shanghai", "这条消息的链接", "举报"),
        ("bob", "America/New_York", "Link to this message", "Report"),
    ):
        article = pages[name].locator(f"#msg-{message.pk}")
        expect(article).to_contain_text("good morning")
        expect(article.locator(".permalink")).to_have_attribute("title", link)
        expect(article.locator("button.report")).to_have_text(report)
        expect(article.locator("time")).to_have_text(f"{message.created_at.astimezone(ZoneInfo(zone)):%H:%M}")
    expect(pages["alice"].locator("html")).to_have_attribute("lang", "zh-hans")
