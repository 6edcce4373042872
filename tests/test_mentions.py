"""@mentions: how a name is found in what people write, the link and highlight it becomes, the rows behind the
sidebar's mention badges and the Mentions page, @here and its room size, and the composer's suggestions."""

from __future__ import annotations

import re
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import Profile
from rooms import formatting, mentions, services
from rooms.errors import ChatError
from rooms.models import Mention, Message

from .helpers import drain, frames_until, make_user, open_socket, send_frame

PEOPLE = {
    "bob": mentions.Person(2, "/people/bob/card/"),
    "bob.smith": mentions.Person(3, "/people/bob.smith/card/"),
    "张伟": mentions.Person(4, "/people/%E5%BC%A0%E4%BC%9F/card/"),
}


def named(source: str, here: bool = True) -> tuple[set[int], bool]:
    found = formatting.render_message(source, PEOPLE, here=here)
    return set(found.mentioned), found.here


# ---- finding names in text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, people",
    [
        ("@bob", {2}),
        ("hi @bob, @bob. (@bob) @bob! @bob? @bob:", {2}),  # punctuation after a name ends it
        ("@Bob", {2}),  # as typed: names are found whatever the case
        ("@bob.smith please", {3}),  # the longest known name
        ("@bob.smith.", {3}),
        ("@bobby", set()),  # not "bob" followed by "by"
        ("@bob_x", set()),
        ("bob@example.com and alice@bob.com", set()),  # email addresses are not mentions
        ("https://example.com/@bob", set()),  # nor a path
        ("a=@bob", set()),
        ("请@张伟看一下", {4}),  # Chinese: no space around the name
        ("@张伟，你好", {4}),
        ("@bob你好", {2}),
        ("@nobody @张", set()),  # unknown names stay text
        ("`@bob` and\n```\n@bob\n```", set()),  # not in code
        ("[@bob](https://example.com)", set()),  # nor inside a link
        ("**@bob** _@张伟_", {2, 4}),
    ],
)
def test_who_a_message_names(source, people):
    assert named(source)[0] == people


def test_here_is_found_where_it_is_allowed_only():
    assert named("@here: standup", here=True) == (set(), True)
    assert named("@herenow @here_x", here=True) == (set(), False)
    assert named("@here", here=False) == (set(), False)


def test_a_mention_is_a_link_to_the_card_naming_its_person_by_id():
    html = formatting.render_message("hi @bob and @here", PEOPLE, here=True).html
    assert '<a href="/people/bob/card/" class="mention" data-user="2"' in html and ">@bob</a>" in html
    assert '<span class="mention mention-here">@here</span>' in html


def test_candidates_are_bounded_per_message():
    many = " ".join(f"@u{i:03}" for i in range(100))  # 100 different names of 4 characters
    whole = {name for name in mentions.candidates(many) if len(name) == 4}
    assert whole == {f"u{i:03}" for i in range(mentions.MAX_NAMES)}  # the first 20 only, each with its prefixes
    assert {"u", "u0", "u00", "u01"} <= mentions.candidates(many)


def test_the_sanitizer_keeps_a_mention_only_as_the_formatter_makes_it():
    html = formatting.sanitize(
        '<a href="/people/bob/card/" class="mention evil" data-user="2x" hx-get="/x">a</a>'
        '<a href="/accounts/logout/" class="mention">b</a><span class="mention-here" id="composer">c</span>'
    )
    assert "data-user" not in html and "evil" not in html and "hx-get" not in html and "id=" not in html
    assert "/accounts/logout/" not in html and 'class="mention-here"' in html


# ---- sending --------------------------------------------------------------------------------------------


def send(user, room, body: str) -> Message:
    return services.post_message(user, room.pk, body, uuid.uuid4()).message


@pytest.mark.django_db(transaction=True)
def test_a_mention_links_the_person_and_counts_apart_from_unread(people):
    alice, bob, carol, general = people["alice"], people["bob"], people["carol"], people["general"]
    message = send(alice, general, "@bob can you look? cc @nobody and mail bob@example.com")
    assert f'data-user="{bob.pk}"' in message.html and ">@nobody" not in message.html
    send(alice, general, "no mention here")
    assert set(Mention.objects.values_list("user_id", "message_id")) == {(bob.pk, message.pk)}
    counts = services.read_state.counts(bob)
    assert counts[general.pk] == (2, 1)  # two unread, one of them mentions bob
    assert services.read_state.counts(carol)[general.pk] == (2, 0)
    services.mark_read(bob, general.pk, general.messages.order_by("-seq").first().seq)
    assert services.read_state.counts(bob)[general.pk] == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_sidebar_shows_the_mention_badge(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    send(alice, general, "@bob hello")
    client = Client()
    client.force_login(bob)
    page = client.get("/").content.decode()
    badge = re.search(rf'<span id="mentions-{general.pk}" class="mention-count"[^>]*>([^<]*)</span>', page)
    assert badge and badge.group(1) == "@1"
    assert re.search(rf'<span id="unread-{general.pk}" class="count">1</span>', page)


@pytest.mark.django_db(transaction=True)
def test_only_people_who_can_read_a_conversation_are_mentioned_in_it(people):
    alice, carol, dm = people["alice"], people["carol"], people["dm"]
    message = send(alice, dm, "@carol would know, @bob")
    assert f'data-user="{carol.pk}"' not in message.html  # carol cannot read alice and bob's conversation
    assert list(Mention.objects.values_list("user__username", flat=True)) == ["bob"]


@pytest.mark.django_db(transaction=True)
def test_mentioning_yourself_is_not_a_mention(people):
    send(people["alice"], people["general"], "note to @alice")
    assert not Mention.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_edit_moves_the_mentions(people):
    alice, bob, carol, general = people["alice"], people["bob"], people["carol"], people["general"]
    message = send(alice, general, "@bob please")
    services.edit_message(alice, message.pk, "@carol please")
    assert list(Mention.objects.values_list("user_id", flat=True)) == [carol.pk]
    assert services.read_state.counts(bob)[general.pk] == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_a_chinese_username_is_mentioned(people):
    zhang = make_user("张伟")
    services.join(zhang, people["general"])
    message = send(people["alice"], people["general"], "请@张伟看一下")
    assert f'data-user="{zhang.pk}"' in message.html and ">@张伟</a>看一下" in message.html


# ---- @here -----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_here_is_refused_in_a_room_bigger_than_its_limit_and_nothing_is_lost(people):
    general = people["general"]
    general.here_limit = 2
    general.save()
    with pytest.raises(ChatError) as refused:
        send(people["alice"], general, "@here lunch?")
    assert "at most 2 members" in str(refused.value) and "this one has 3" in str(refused.value)
    assert not general.messages.exists()


@pytest.mark.django_db(transaction=True)
def test_here_is_for_members_only(people):
    outsider = make_user("dave")
    with pytest.raises(ChatError, match="Only members"):
        send(outsider, people["general"], "@here hi")


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_here_mentions_the_people_with_the_room_open(people):
    general = people["general"]
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")  # bob has it open, carol does not
    await drain(bob)
    message = await database_sync_to_async(send)(people["alice"], general, "@here standup in 5")
    frame = (await frames_until(bob, f'id="msg-{message.pk}"'))[-1]
    assert '<span class="mention mention-here">@here</span>' in frame
    reached = await database_sync_to_async(lambda: set(Mention.objects.values_list("user__username", flat=True)))()
    assert reached == {"bob"}
    await bob.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_a_refused_here_comes_back_to_the_sender_in_their_language(people):
    general = people["general"]
    general.here_limit = 1
    await database_sync_to_async(general.save)()
    alice, _ = await open_socket(people["alice"], f"/ws/rooms/{general.pk}/?lang=zh-hans")
    await drain(alice)
    await alice.send_to(text_data=send_frame("@here hi"))
    frame = (await frames_until(alice, "composer-status"))[-1]
    assert "@here" in frame and "1" in frame and "3" in frame and 'data-ok="0"' in frame
    assert re.search(r"[\u4e00-\u9fff]", frame)  # said in Chinese
    await alice.disconnect()


@pytest.mark.django_db(transaction=True)
def test_an_edit_keeps_whom_here_reached_and_reaches_nobody_new_by_it(people, monkeypatch):
    alice, bob, carol, general = people["alice"], people["bob"], people["carol"], people["general"]
    viewers = {bob.pk}
    monkeypatch.setattr(services.mentions, "_here", lambda room_id: set(viewers))
    message = send(alice, general, "@here and @carol: standup")
    reached = lambda: set(Mention.objects.values_list("user_id", flat=True))  # noqa: E731
    assert reached() == {bob.pk, carol.pk}
    viewers.add(carol.pk)  # who has the room open now does not matter to an edit
    viewers.add(people["mod"].pk)
    services.edit_message(alice, message.pk, "@here: standup in 5")  # carol no longer named
    assert reached() == {bob.pk}
    general.here_limit = 1  # the room outgrew @here since: fixing a typo is still fine
    general.save()
    services.edit_message(alice, message.pk, "@here: standup in 10")
    assert reached() == {bob.pk}
    services.edit_message(alice, message.pk, "standup in 10")  # @here gone: so is what it reached
    assert reached() == set()
    with pytest.raises(ChatError, match="at most 1 member"):
        services.edit_message(alice, message.pk, "@here again")  # adding it is asked again


@pytest.mark.django_db(transaction=True)
def test_here_can_be_turned_off_in_a_room(people):
    general = people["general"]
    general.here_limit = 0
    general.save()
    with pytest.raises(ChatError, match="turned off in this room"):
        send(people["alice"], general, "@here hi")


# ---- the Mentions page and suggestions -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_mentions_page_lists_mine_newest_first_with_permalinks(people):
    alice, bob, carol, general = people["alice"], people["bob"], people["carol"], people["general"]
    first = send(alice, general, "@bob first")
    second = send(carol, general, "@bob second")
    send(alice, general, "@carol not bob's")
    gone = send(alice, general, "@bob removed")
    services.delete_message(alice, gone.pk)
    in_dm = send(alice, people["dm"], "@bob in private")
    client = Client()
    client.force_login(bob)
    page = client.get("/mentions/").content.decode()
    links = re.findall(r'href="/m/(\d+)/"', page)
    assert links == [str(in_dm.pk), str(second.pk), str(first.pk)]
    assert "removed" not in page and "not bob&#x27;s" not in page
    as_carol = Client()
    as_carol.force_login(carol)
    assert "in private" not in as_carol.get("/mentions/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_mentions_page_is_for_signed_in_people(people):
    assert Client().get("/mentions/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_suggestions_find_people_by_username_or_name_chinese_included(people):
    alice, general = people["alice"], people["general"]
    zhang = make_user("zhangwei")
    Profile.objects.update_or_create(user=zhang, defaults={"display_name": "张伟"})
    services.join(zhang, general)
    client = Client()
    client.force_login(alice)
    url = f"/rooms/{general.pk}/mentionable/"

    def found(q: str) -> list[str]:
        return [s["insert"] for s in client.get(url, {"q": q}).json()["suggestions"]]

    assert found("b") == ["@bob"]
    assert found("张") == ["@zhangwei"]
    assert found("ZHANG") == ["@zhangwei"]
    assert found("he") == ["@here"]
    assert "@alice" not in found("")  # not yourself
    label = client.get(url, {"q": "张"}).json()["suggestions"][0]["label"]
    assert label == "张伟 @zhangwei"


@pytest.mark.django_db(transaction=True)
def test_in_a_direct_conversation_only_the_partner_is_suggested(people):
    client = Client()
    client.force_login(people["alice"])
    suggestions = client.get(f"/rooms/{people['dm'].pk}/mentionable/", {"q": ""}).json()["suggestions"]
    assert [s["insert"] for s in suggestions] == ["@bob"]
