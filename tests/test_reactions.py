"""Reactions: added and removed from sockets over the real channels-redis layer, once per person and kind
even when two tabs click at once, numbered changes that catch-up replays once, who reacted, the rules of who
may, flood control, and a moderator's removal from admin reaching every screen."""

from __future__ import annotations

import asyncio
import json
import re
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import close_old_connections

from moderation.models import ModerationLog
from rooms import services
from rooms.errors import ChatError
from rooms.models import Mute, Reaction

from .helpers import drain, frames_until, make_user, open_socket
from .support.moderation import live, post, signed_in


def react_frame(message_id: int, emoji: str = "👍", add: bool = True) -> str:
    return json.dumps({"action": "react", "message_id": message_id, "emoji": emoji, "add": int(add)})


def reactions_of(html: str, message_id: int) -> dict[str, tuple[int, set[str]]]:
    """emoji -> (count shown, ids in data-users) of one message as a page or frame holds it."""
    article = re.search(rf'<article id="msg-{message_id}".*?</article>', html, re.S).group(0)
    found = {}
    for emoji, users, count in re.findall(
        r'<button type="button" class="reaction" data-emoji="([^"]+)" data-users="([^"]*)".*?class="n">(\d+)<',
        article,
        re.S,
    ):
        found[emoji] = (int(count), set(users.split()))
    return found


@live
async def test_a_reaction_reaches_every_page_of_the_room_live_and_catch_up_replays_it_once(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    message = await database_sync_to_async(post)(alice, general, "shipped")
    before = (await database_sync_to_async(general.__class__.objects.get)(pk=general.pk)).last_seq
    alice_page, _ = await open_socket(alice, f"/ws/rooms/{general.pk}/")
    bob_page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    await drain(alice_page)
    await drain(bob_page)
    await bob_page.send_to(text_data=react_frame(message.pk, "🎉"))
    frame = (await frames_until(alice_page, 'data-emoji="🎉"'))[-1]
    assert reactions_of(frame, message.pk) == {"🎉": (1, {str(bob.pk)})}
    assert 'title="bob reacted with 🎉"' in frame
    assert f'data-changed="{before + 1}"' in frame  # the room's next change number
    # A page that was away asks for what it missed: the message comes once, with its reaction.
    await alice_page.send_to(text_data=json.dumps({"action": "catch_up", "after": before}))
    answer = (await frames_until(alice_page, "data-upto"))[-1]
    assert answer.count(f'id="msg-{message.pk}"') == 1 and reactions_of(answer, message.pk)["🎉"][0] == 1
    # Taking it back: the message shows no reactions, under the number after.
    await bob_page.send_to(text_data=react_frame(message.pk, "🎉", add=False))
    frame = (await frames_until(alice_page, f'data-changed="{before + 2}"'))[-1]
    assert 'class="reactions"' not in frame
    for page in (alice_page, bob_page):
        await page.disconnect()


@live
async def test_two_tabs_adding_the_same_reaction_at_once_make_one(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    message = await database_sync_to_async(post)(alice, general, "vote")
    tabs = [(await open_socket(bob, f"/ws/rooms/{general.pk}/"))[0] for _ in range(2)]
    watcher, _ = await open_socket(alice, f"/ws/rooms/{general.pk}/")
    for page in (*tabs, watcher):
        await drain(page)
    await asyncio.gather(*(tab.send_to(text_data=react_frame(message.pk)) for tab in tabs))
    await frames_until(watcher, 'data-emoji="👍"')
    await drain(watcher, quiet=0.5)
    assert await database_sync_to_async(Reaction.objects.filter(message=message).count)() == 1
    await watcher.send_to(text_data=json.dumps({"action": "catch_up", "after": 0}))
    answer = (await frames_until(watcher, "data-upto"))[-1]
    assert reactions_of(answer, message.pk) == {"👍": (1, {str(bob.pk)})}
    for page in (*tabs, watcher):
        await page.disconnect()


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_from_many_threads_store_one(people):
    """The service alone, called at the same moment from several database connections."""
    message = post(people["alice"], people["general"], "race")
    start = threading.Barrier(4)
    errors = []

    def add() -> None:
        try:
            start.wait()
            services.react(people["bob"], message.pk, "👍", True)
        except Exception as error:
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and Reaction.objects.filter(message=message).count() == 1
    message.refresh_from_db()
    assert message.changed_seq == message.seq + 1  # one change, not four


@pytest.mark.django_db(transaction=True)
def test_who_reacted_is_named_and_counted(people):
    alice, general = people["alice"], people["general"]
    message = post(alice, general, "popular")
    for n in range(12):
        fan = make_user(f"fan{n:02}")
        services.react(fan, message.pk, "❤️", True)
    services.react(people["bob"], message.pk, "😂", True)
    page = signed_in(alice).get(f"/rooms/{general.slug}/").content.decode()
    assert reactions_of(page, message.pk)["❤️"][0] == 12 and reactions_of(page, message.pk)["😂"][0] == 1
    assert "fan00, fan01, fan02, fan03, fan04, fan05, fan06, fan07, fan08, fan09 and 2 more reacted with ❤️" in page
    assert page.index('data-emoji="❤️"') < page.index('data-emoji="😂"')  # in the order they first came


@pytest.mark.django_db(transaction=True)
def test_who_may_react_and_with_what(people):
    alice, bob, carol, general = people["alice"], people["bob"], people["carol"], people["general"]
    message = post(alice, general, "hello")
    secret = post(alice, people["dm"], "between us")
    for bad in ("a", "👍👍", "", "<b>", "👍 "):
        with pytest.raises(ChatError, match="Reactions are emoji"):
            services.react(bob, message.pk, bad, True)
    with pytest.raises(ChatError, match="no longer exists"):
        services.react(carol, secret.pk, "👍", True)  # not her conversation
    services.delete_message(alice, (gone := post(alice, general, "oops")).pk)
    with pytest.raises(ChatError, match="no longer exists"):
        services.react(bob, gone.pk, "👍", True)
    Mute.objects.create(room=general, user=carol, until="2999-01-01T00:00:00Z")
    with pytest.raises(ChatError, match="muted"):
        services.react(carol, message.pk, "👍", True)
    general.locked = True
    general.save()
    with pytest.raises(ChatError, match="locked"):
        services.react(bob, message.pk, "👍", True)
    assert not Reaction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_takes_so_many_kinds_of_reaction(people):
    message = post(people["alice"], people["general"], "many")
    kinds = [
        "😀",
        "😃",
        "😄",
        "😁",
        "😆",
        "😅",
        "🤣",
        "😂",
        "🙂",
        "🙃",
        "😉",
        "😊",
        "😇",
        "🥰",
        "😍",
        "🤩",
        "😘",
        "😗",
        "😚",
        "😙",
    ]
    for kind in kinds[: Reaction.MAX_KINDS]:
        services.react(people["bob"], message.pk, kind, True)
    with pytest.raises(ChatError, match="as many kinds"):
        services.react(people["bob"], message.pk, "🔥", True)
    services.react(people["carol"], message.pk, "😀", True)  # one already there: still fine


@live
async def test_reactions_past_the_budget_are_refused_with_a_notice(people, settings):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    settings.FRAME_RATE = 0
    message = await database_sync_to_async(post)(alice, general, "spam me")
    page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    await drain(page)
    for n in range(15):
        await page.send_to(text_data=react_frame(message.pk, "👍", add=n % 2 == 0))
    assert "too fast" in "".join(await drain(page, quiet=0.8))
    await page.disconnect()


@live
async def test_a_moderator_removes_a_reaction_in_admin_and_it_leaves_every_screen(people):
    alice, bob, general, mod = people["alice"], people["bob"], people["general"], people["mod"]
    message = await database_sync_to_async(post)(alice, general, "meh")
    await database_sync_to_async(services.react)(bob, message.pk, "🤮", True)
    reaction = await database_sync_to_async(Reaction.objects.get)()
    page, _ = await open_socket(alice, f"/ws/rooms/{general.pk}/")
    await drain(page)
    admin = await database_sync_to_async(signed_in)(mod)
    response = await database_sync_to_async(admin.post)(f"/admin/rooms/reaction/{reaction.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    frame = (await frames_until(page, f'id="msg-{message.pk}"'))[-1]
    assert "🤮" not in frame
    assert await database_sync_to_async(
        lambda: ModerationLog.objects.filter(action="remove_reaction", target_user=bob, details="🤮").exists()
    )()
    await page.disconnect()


@pytest.mark.django_db(transaction=True)
def test_reactions_in_direct_conversations_stay_out_of_admin(people):
    secret = post(people["alice"], people["dm"], "private")
    services.react(people["bob"], secret.pk, "👍", True)
    listing = signed_in(people["mod"]).get("/admin/rooms/reaction/").content.decode()
    assert "private" not in listing and "0 reactions" in listing


@pytest.mark.django_db(transaction=True)
def test_one_emoji_written_two_ways_is_one_reaction(people):
    message = post(people["alice"], people["general"], "love it")
    services.react(people["bob"], message.pk, "❤", True)  # without the emoji variation selector
    services.react(people["carol"], message.pk, "❤️", True)  # with it
    page = signed_in(people["alice"]).get(f"/rooms/{people['general'].slug}/").content.decode()
    assert reactions_of(page, message.pk) == {"❤️": (2, {str(people["bob"].pk), str(people["carol"].pk)})}
    services.react(people["bob"], message.pk, "❤️", False)  # and taken back either way
    assert Reaction.objects.get().user == people["carol"]
