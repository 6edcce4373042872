"""Pushed frames in each reader's language: rendered once per language among the receiving pages, never once
per reader, and each socket gets its own page's language (the page's URL says which: base.html)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from moderation import services as moderation
from rooms import frames, services

from .helpers import drain, frames_until, make_user, open_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.redis]


def post(room, text: str) -> None:
    services.post_message(room.created_by, room.pk, text, uuid.uuid4())


async def readers(room, languages: list[str]) -> list:
    sockets = []
    for n, language in enumerate(languages):
        person = await database_sync_to_async(make_user)(f"reader{n}")
        comm, connected = await open_socket(person, f"/ws/rooms/{room.pk}/?lang={language}")
        assert connected
        sockets.append(comm)
    for comm in sockets:
        await drain(comm, quiet=0.2)
    return sockets


def counting_renders(monkeypatch) -> list[str]:
    rendered: list[str] = []
    real = frames.messages_frame
    monkeypatch.setattr(frames, "messages_frame", lambda *a, **k: rendered.append(1) or real(*a, **k))
    return rendered


async def test_the_same_message_reaches_each_reader_in_their_own_language(people, monkeypatch):
    room = people["general"]
    english, chinese, unknown = await readers(room, ["en", "zh-hans", "xx"])
    rendered = counting_renders(monkeypatch)
    await database_sync_to_async(post)(room, "hello")
    in_english = "".join(await frames_until(english, "hello"))
    in_chinese = "".join(await frames_until(chinese, "hello"))
    in_unknown = "".join(await frames_until(unknown, "hello"))
    english_link, chinese_link = 'title="Link to this message"', 'title="这条消息的链接"'
    assert english_link in in_english and chinese_link not in in_english
    assert chinese_link in in_chinese and english_link not in in_chinese
    assert english_link in in_unknown  # a language Roomcast does not have: the default one
    assert len(rendered) == 2  # three readers, two languages
    for comm in (english, chinese, unknown):
        await comm.disconnect()


async def test_readers_of_one_language_cost_one_rendering(people, monkeypatch):
    room = people["general"]
    sockets = await readers(room, ["zh-hans"] * 4)
    rendered = counting_renders(monkeypatch)
    await database_sync_to_async(post)(room, "hello")
    for comm in sockets:
        assert 'title="这条消息的链接"' in "".join(await frames_until(comm, "hello"))
    assert len(rendered) == 1
    for comm in sockets:
        await comm.disconnect()


async def test_a_refusal_comes_in_the_page_language_and_time_zone(people):
    room, reader, mod = people["general"], people["bob"], people["mod"]
    until = timezone.now() + dt.timedelta(hours=1)
    await database_sync_to_async(moderation.mute)(mod, room, reader, until)
    comm, _ = await open_socket(reader, f"/ws/rooms/{room.pk}/?lang=zh-hans&tz=Asia/Shanghai")
    await drain(comm, quiet=0.2)
    client_id = str(uuid.uuid4())
    await comm.send_to(text_data=json.dumps({"action": "send", "body": "hi", "client_id": client_id}))
    answer = (await frames_until(comm, f'data-client-id="{client_id}"'))[-1]
    local = until.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert f"{local:%Y-%m-%d %H:%M} CST" in answer  # the reader's zone, named
    assert "禁言" in answer  # and language
    await comm.disconnect()
