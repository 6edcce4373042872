"""Replies: a message answering another shows a quote of it (who, and its first line) linked to it, through the
socket and on the page; only a message of the same room that still exists can be answered; a quote of one
removed later says so; and the quote of a message far back in the history leads to it."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from channels.db import database_sync_to_async

from rooms import frames, services
from rooms.errors import ChatError
from rooms.models import Message

from .helpers import drain, frames_until, open_socket
from .support.moderation import live, post, signed_in


def reply_frame(body: str, reply_to: object) -> str:
    return json.dumps({"body": body, "client_id": str(uuid.uuid4()), "reply_to": reply_to})


def quote_of(html: str, message_id: int) -> str:
    article = re.search(rf'<article id="msg-{message_id}".*?</article>', html, re.S).group(0)
    found = re.search(r'class="reply[^"]*"[^>]*>(.*?)</(a|p)>', article, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).split("In reply to", 1)[-1].strip() if found else ""


@live
async def test_a_reply_sent_from_the_socket_shows_its_quote_to_everyone(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    asked = await database_sync_to_async(post)(alice, general, "**Release** on Friday?\nOr Monday.")
    bob_page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    alice_page, _ = await open_socket(alice, f"/ws/rooms/{general.pk}/")
    for page in (bob_page, alice_page):
        await drain(page)
    await bob_page.send_to(text_data=reply_frame("Friday works", str(asked.pk)))  # a form field: digits
    frame = (await frames_until(alice_page, "Friday works"))[-1]
    reply = await database_sync_to_async(Message.objects.get)(body="Friday works")
    assert reply.reply_to_id == asked.pk
    assert quote_of(frame, reply.pk) == "alice Release on Friday?"  # the first line, as it shows
    assert f'href="/m/{asked.pk}/"' in frame and f'data-quoted="msg-{asked.pk}"' in frame
    for page in (bob_page, alice_page):
        await page.disconnect()


@live
async def test_a_send_without_a_reply_or_with_an_empty_one_is_a_plain_message_and_garbage_is_refused(people):
    general = people["general"]
    page, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")
    await drain(page)
    await page.send_to(text_data=reply_frame("plain", ""))
    await frames_until(page, 'data-ok="1"')
    await page.send_to(text_data=reply_frame("odd", "abc"))
    assert "could not be read" in (await frames_until(page, "composer-status"))[-1]
    stored = await database_sync_to_async(lambda: list(Message.objects.values_list("body", "reply_to_id")))()
    assert stored == [("plain", None)]
    await page.disconnect()


@pytest.mark.django_db(transaction=True)
def test_only_a_message_of_the_same_room_can_be_answered(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    elsewhere = post(people["carol"], people["elsewhere"], "not in general")
    secret = post(alice, people["dm"], "between us")
    for target_id in (elsewhere.pk, secret.pk, 10**9):
        with pytest.raises(ChatError, match="replying to no longer exists"):
            services.post_message(bob, general.pk, "re", uuid.uuid4(), reply_to=target_id)
    assert not Message.objects.filter(body="re").exists()


@pytest.mark.django_db(transaction=True)
def test_a_reply_to_a_message_removed_meanwhile_still_goes_and_says_so(people):
    """Written (or queued offline) while the message was there, sent once it was gone: nothing is lost."""
    alice, bob, general = people["alice"], people["bob"], people["general"]
    gone = post(alice, general, "oops")
    services.delete_message(alice, gone.pk)
    reply = services.post_message(bob, general.pk, "what was that?", uuid.uuid4(), reply_to=gone.pk).message
    assert quote_of(frames.messages_frame(general.pk, [reply]), reply.pk) == "Replying to a message that was deleted"


@pytest.mark.django_db(transaction=True)
def test_the_quote_of_a_message_removed_later_says_so(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    asked = post(alice, general, "regrettable")
    reply = services.post_message(bob, general.pk, "indeed", uuid.uuid4(), reply_to=asked.pk).message
    services.delete_message(alice, asked.pk)
    page = signed_in(bob).get(f"/rooms/{general.slug}/").content.decode()
    assert quote_of(page, reply.pk) == "Replying to a message that was deleted"
    assert "regrettable" not in page


@pytest.mark.django_db(transaction=True)
def test_the_quote_of_a_message_outside_the_loaded_history_leads_to_it(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    first = post(alice, general, "the very first plan")
    for n in range(services.PAGE_SIZE + 10):
        post(alice, general, f"filler {n}")
    reply = services.post_message(bob, general.pk, "back to the plan", uuid.uuid4(), reply_to=first.pk).message
    client = signed_in(bob)
    page = client.get(f"/rooms/{general.slug}/").content.decode()
    assert f'id="msg-{first.pk}"' not in page  # not loaded: the newest page only
    assert quote_of(page, reply.pk) == "alice the very first plan"
    link = re.search(rf'<a class="reply" href="([^"]+)" data-quoted="msg-{first.pk}"', page).group(1)
    around = client.get(link, follow=True)
    assert f'id="msg-{first.pk}"' in around.content.decode()
    assert around.redirect_chain[-1][0].endswith(f"#msg-{first.pk}")


@pytest.mark.django_db(transaction=True)
def test_history_shows_quotes_without_a_query_per_reply(people, django_assert_max_num_queries):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    asked = post(alice, general, "question")
    for n in range(20):
        services.post_message(bob, general.pk, f"answer {n}", uuid.uuid4(), reply_to=asked.pk)
    client = signed_in(bob)
    with django_assert_max_num_queries(13):
        page = client.get(f"/rooms/{general.slug}/").content.decode()
    assert page.count('data-quoted="msg-') == 20
