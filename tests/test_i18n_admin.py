"""Moderation in admin, in Simplified Chinese: a moderator whose account says zh-hans sees the report queue, the
ban form (its refusals included) and what a list action did in Chinese; English keeps its plural forms.

tests/test_translations.py proves every string has a translation; this proves they reach the moderator's screen
(lazy labels evaluated per request, not once at import in whatever language was active)."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.models import Profile
from moderation import services as moderation
from rooms import services
from rooms.errors import slow_down

from .helpers import make_user
from .support.moderation import make_moderator, post, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_left_active():
    """The test client serves requests in the test's thread, where the last request's language stays active."""
    yield
    translation.deactivate()


@pytest.fixture
def chinese_moderator():
    mod = make_moderator()
    Profile.objects.create(user=mod, language="zh-hans")
    return mod


@pytest.fixture
def general():
    alice, bob = make_user("alice"), make_user("bob")
    room = services.create_room(alice, "General")
    moderation.report_message(bob, post(alice, room, "buy cheap watches").pk, "spam")
    return room


def test_the_report_queue_is_in_chinese(chinese_moderator, general):
    page = signed_in(chinese_moderator).get("/admin/moderation/report/").content.decode()
    for chinese in (
        "社区管理",  # the app
        "举报人",  # a field's verbose_name as a column
        "此消息的举报数",  # a column of the admin's own
        "待处理",  # the status filter's option, and the open report's status
        "处理结果",  # the resolution filter's title ...
        "已驳回",  # ... and one of its choices
        "在此房间禁言作者 24 小时",  # a list action
    ):
        assert chinese in page, chinese
    assert "Mute author in this room" not in page and "reports on this message" not in page


def test_the_ban_form_and_its_refusals_are_in_chinese(chinese_moderator):
    client = signed_in(chinese_moderator)
    page = client.get("/admin/moderation/ban/add/").content.decode()
    for chinese in ("截止时间", "原因", "此人尝试登录时会看到。", "留空则一直封禁，直到版主解除。"):
        assert chinese in page, chinese
    refused = client.post("/admin/moderation/ban/add/", {"user": chinese_moderator.pk, "reason": "x"})
    assert refused.status_code == 200 and "您不能封禁自己。" in refused.content.decode()


def test_what_a_room_action_did_is_said_in_chinese(chinese_moderator, general):
    archived = services.create_room(make_user("carol"), "Old")
    moderation.set_archived(chinese_moderator, archived, True)
    answer = signed_in(chinese_moderator).post(
        "/admin/rooms/room/", {"action": "lock_rooms", "_selected_action": [general.pk, archived.pk]}, follow=True
    )
    page = answer.content.decode()
    assert "已锁定 1 个房间。" in page
    assert "已跳过 1 个已归档的房间：请先取消归档。" in page


def test_english_keeps_its_plurals(general):
    mod = make_moderator()
    other = services.create_room(mod, "Random")
    answer = signed_in(mod).post(
        "/admin/rooms/room/", {"action": "lock_rooms", "_selected_action": [general.pk, other.pk]}, follow=True
    )
    assert "2 rooms locked." in answer.content.decode()
    answer = signed_in(mod).post(
        "/admin/rooms/room/", {"action": "unlock_rooms", "_selected_action": [other.pk]}, follow=True
    )
    assert "1 room unlocked." in answer.content.decode()


def test_frames_and_refusals_follow_the_active_language():
    with translation.override("zh-hans"):
        assert str(moderation.THANKS) == "谢谢，版主会进行审核。"
        assert str(moderation.ALREADY_REVIEWED) == "版主已经审核过您对这条消息的举报。"
        assert slow_down("send", 2500) == "您发送消息太快了。这条消息将在 3 秒后自动发出。"
    assert str(moderation.THANKS) == "Thanks, a moderator will review it."
