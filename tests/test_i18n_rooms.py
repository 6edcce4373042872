"""The chat in Simplified Chinese: a zh-hans reader (their browser's Accept-Language, or their account's language)
sees the room list, a room, a new conversation and the chat's refusals in Chinese; admin names the chat's models
in Chinese. The refusals (ChatError) are worded when raised, in the language active then: the reader's.

tests/test_translations.py proves every string has a translation; this proves the chat's own strings are marked
and reach the reader (lazy constants evaluated per refusal, not once at import)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone, translation

from accounts.models import Profile
from rooms import access, services
from rooms.models import Mute, Room

from .helpers import make_user
from .support.moderation import make_moderator, post, signed_in

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


@pytest.fixture(autouse=True)
def _nothing_left_active():
    """The test client serves requests in the test's thread, where the last request's language stays active."""
    yield
    translation.deactivate()


@pytest.fixture
def general(alice):
    return services.create_room(alice, "General")


@pytest.fixture
def chinese_bob(bob):
    """A reader whose account says zh-hans, whatever the browser asks for."""
    Profile.objects.create(user=bob, language="zh-hans")
    return bob


def refusal(call, *args) -> services.ChatError:
    with pytest.raises(services.ChatError) as refused:
        call(*args)
    return refused.value


def test_the_room_list_follows_a_chinese_browser(alice, general):
    page = signed_in(alice).get("/", **CHINESE).content.decode()
    for chinese in ("查找房间", "成员数", "创建房间", "名称", "简介", "私信", "给某人发私信…", "退出登录"):
        assert chinese in page, chinese
    for english in ("Find a room", "Create a room", "Description", "Direct messages"):
        assert english not in page, english


def test_a_room_page_is_in_the_account_language(chinese_bob, general, alice):
    post(alice, general, "hello")
    page = signed_in(chinese_bob).get("/rooms/general/").content.decode()
    for chinese in ("加入此房间", "发消息到 #General", "发送", ">编辑</button>", "举报", "新消息"):
        assert chinese in page, chinese
    assert "Join this room" not in page and ">Edit</button>" not in page


def test_a_new_conversation_and_its_refused_first_message_are_in_chinese(chinese_bob, alice):
    client = signed_in(chinese_bob)
    page = client.get("/dm/alice/").content.decode()
    for chinese in ("您与 alice 之间的私密对话。", "发消息给 @alice", "还没有消息。打个招呼吧！"):
        assert chinese in page, chinese
    refused = client.post("/dm/alice/", {"body": "   ", "client_id": str(uuid.uuid4())})
    assert refused.status_code == 400 and "消息内容为空。" in refused.content.decode()


def test_creating_a_room_is_refused_in_chinese(alice, general):
    client = signed_in(alice)
    taken = client.post("/", {"name": "general", "description": ""}, **CHINESE)
    assert taken.status_code == 400 and "名为“general”的房间已存在。" in taken.content.decode()
    nameless = client.post("/", {"name": "!!!", "description": ""}, **CHINESE)
    assert nameless.status_code == 400 and "房间名称至少需要包含一个字母或数字。" in nameless.content.decode()
    english = client.post("/", {"name": "general", "description": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert "A room called “general” already exists." in english.content.decode()


def test_refusals_are_worded_in_the_language_active_when_raised(alice, bob, general):
    locked = services.create_room(alice, "Locked")
    Room.objects.filter(pk=locked.pk).update(locked=True)
    archived = services.create_room(alice, "Old")
    Room.objects.filter(pk=archived.pk).update(locked=True, archived_at=timezone.now())
    send = services.post_message
    refusals = {
        "empty": lambda: refusal(services.clean_body, " \n "),
        "too long": lambda: refusal(services.clean_body, "x" * 4001),
        "locked": lambda: refusal(send, bob, locked.pk, "hi", uuid.uuid4()),
        "archived": lambda: refusal(send, bob, archived.pk, "hi", uuid.uuid4()),
        "yourself": lambda: refusal(services.direct_room, alice, alice),
        "taken": lambda: refusal(services.create_room, bob, "General"),
    }
    with translation.override("zh-hans"):
        raised = {name: say() for name, say in refusals.items()}
    # Read once the reader's language is no longer active: a refusal is worded when raised, not when shown.
    chinese = {name: str(error) for name, error in raised.items()}
    english = {name: str(say()) for name, say in refusals.items()}
    assert chinese == {
        "empty": "消息内容为空。",
        "too long": "消息太长：共 4001 个字符（上限为 4000 个）。",
        "locked": "此房间已被版主锁定：您可以阅读，但不能发言。",
        "archived": "此房间已归档：您可以阅读，但任何人都不能再发言。",
        "yourself": "您不能与自己开始私聊。",
        "taken": "名为“General”的房间已存在。",
    }
    assert english == {
        "empty": "Message is empty.",
        "too long": "Message is too long: 4,001 characters (the limit is 4,000).",
        "locked": str(access.LOCKED),
        "archived": str(access.ARCHIVED),
        "yourself": "You can't start a conversation with yourself.",
        "taken": "A room called “General” already exists.",
    }
    assert str(access.LOCKED) == "This room is locked by a moderator; you can read but not write."


def test_a_mute_is_said_in_chinese_with_its_end_in_the_reader_zone(alice, bob, general):
    until = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    Mute.objects.create(room=general, user=bob, until=until, reason="冷静一下")
    with translation.override("zh-hans"), timezone.override(dt.timezone(dt.timedelta(hours=8), "CST")):
        text = access.muted_text(general, until, "冷静一下")
    assert text == "您在 #General 中已被禁言，直到 2026-12-01 10:00 CST。 原因：冷静一下"
    dm = services.direct_room(alice, bob)
    assert access.muted_text(dm, until, "") == "You are muted in this conversation until 2026-12-01 02:00 UTC."


def test_admin_names_the_chat_models_in_chinese(alice, bob, general):
    root = make_user("root", is_staff=True, is_superuser=True)
    Profile.objects.create(user=root, language="zh-hans")
    dm = services.direct_room(alice, bob)
    message = post(alice, general, "hello")
    Mute.objects.create(room=general, user=bob, until=timezone.now() + dt.timedelta(hours=1))
    client = signed_in(root)
    index = client.get("/admin/").content.decode()
    for chinese in ("房间", "消息", "禁言"):
        assert f">{chinese}</a>" in index, chinese
    rooms = client.get("/admin/rooms/room/").content.decode()
    for chinese in ("类型", "已锁定", "最新变更编号", "私聊", f"私聊 #{dm.pk}"):
        assert chinese in rooms, chinese
    messages = client.get("/admin/rooms/message/").content.decode()
    assert "作者" in messages and "Author" not in messages
    mutes = client.get("/admin/rooms/mute/").content.decode()
    assert "截止时间" in mutes and "原因" in mutes
    change = client.get(f"/admin/rooms/message/{message.pk}/change/").content.decode()
    assert "位置" in change and "内容" in change
    english = signed_in(make_moderator()).get("/admin/rooms/mute/").content.decode()
    assert "Mutes" in english and "禁言" not in english
