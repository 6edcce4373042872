"""History pages, permalinks, the unread divider and sidebar counts, through the Django test client."""

import re
import uuid

import pytest
from asgiref.sync import async_to_sync

from realtime import presence
from rooms import services
from rooms.models import Membership

from .helpers import make_user
from .support.production import body_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def general(alice, bob):
    room = services.create_room(alice, "General")
    services.join(bob, room)
    return room


def say(user, room, *texts):
    return [services.post_message(user, room.pk, t, uuid.uuid4()).message for t in texts]


def shown(content: str) -> list[str]:
    """The text of the messages on the page (not of the page script's templates)."""
    return [
        body_text(a) for a in re.findall(r'<article id="msg-\d+"[^>]*>.*?<div class="body">.*?</div>', content, re.S)
    ]


def test_history_pages_back_to_the_first_message_with_bounded_queries(
    client, alice, general, django_assert_max_num_queries
):
    say(alice, general, *(f"m{i:03d}" for i in range(120)))
    client.force_login(alice)
    with django_assert_max_num_queries(13):  # the same for 50 messages or 5,000 (and for any number of members)
        page = client.get("/rooms/general/").content.decode()
    assert shown(page) == [f"m{i:03d}" for i in range(70, 120)]
    older_url = re.search(r'hx-get="([^"]+)" hx-trigger="intersect once"', page)[1].replace("&amp;", "&")

    with django_assert_max_num_queries(6):  # the page's messages, their reactions and files, and the checks around them
        older = client.get(older_url).content.decode()
    assert shown(older) == [f"m{i:03d}" for i in range(20, 70)]
    oldest_url = re.search(r'hx-get="([^"]+)"', older)[1]
    oldest = client.get(oldest_url).content.decode()
    assert shown(oldest) == [f"m{i:03d}" for i in range(20)]
    assert "hx-get" not in oldest  # the first message: no more loader


def test_history_skips_deleted_messages(client, alice, general):
    _, second = say(alice, general, "keep", "remove")
    services.delete_messages(general.messages.filter(pk=second.pk), by=alice)
    client.force_login(alice)
    assert shown(client.get("/rooms/general/").content.decode()) == ["keep"]


def test_history_of_a_dm_is_404_for_everyone_else(client, alice, bob):
    carol = make_user("carol")
    dm = services.direct_room(alice, bob)
    say(alice, dm, "secret")
    client.force_login(carol)
    assert client.get(f"/rooms/{dm.pk}/history/?before=999").status_code == 404
    client.force_login(bob)
    assert shown(client.get(f"/rooms/{dm.pk}/history/?before=999").content.decode()) == ["secret"]


def test_permalink_opens_the_room_at_the_message(client, alice, general):
    messages = say(alice, general, *(f"m{i:03d}" for i in range(200)))
    target = messages[20]
    client.force_login(alice)
    response = client.get(f"/m/{target.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/general/?around={target.seq}#msg-{target.pk}"
    page = client.get(f"/rooms/general/?around={target.seq}").content.decode()
    assert shown(page) == [f"m{i:03d}" for i in range(0, 46)]  # 20 before it, it, and 25 after
    assert f'id="msg-{target.pk}"' in page and "Jump to the latest messages" in page
    assert f'href="/m/{target.pk}/"' in page  # every message carries its permalink
    # Below, a loader for newer pages, all the way to the latest message: no hole in between.
    newer_url = re.search(r'hx-get="([^"]+after=[^"]+)"', page)[1]
    seen = shown(page)
    while newer_url:
        older_page = client.get(newer_url).content.decode()
        seen += shown(older_page)
        match = re.search(r'hx-get="([^"]+after=[^"]+)"', older_page)
        newer_url = match[1] if match else None
    assert seen == [f"m{i:03d}" for i in range(200)]


@pytest.mark.parametrize("query", ["around=%C2%B2", "around=99999999999999999999999", "around=-1"])
def test_odd_permalink_numbers_just_show_the_room(client, alice, general, query):
    for i in range(60):
        services.post_message(alice, general.pk, f"m{i:03d}", uuid.uuid4())
    client.force_login(alice)
    response = client.get(f"/rooms/general/?{query}")
    assert response.status_code == 200
    # Not a position in the room: the page is the room as it opens, its newest 50 messages, nothing highlighted.
    assert shown(response.content.decode()) == [f"m{i:03d}" for i in range(10, 60)]
    assert shown(response.content.decode()) == shown(client.get("/rooms/general/").content.decode())


@pytest.mark.parametrize("query", ["before=%C2%B2", "after=x", "", "before=1&after=1"])
def test_odd_history_requests_are_404(client, alice, general, query):
    client.force_login(alice)
    assert client.get(f"/rooms/{general.pk}/history/?{query}").status_code == 404


def test_permalink_to_a_dm_is_404_for_everyone_else(client, alice, bob):
    dm = services.direct_room(alice, bob)
    (message,) = say(bob, dm, "psst")
    client.force_login(make_user("carol"))
    assert client.get(f"/m/{message.pk}/").status_code == 404
    client.force_login(alice)
    assert client.get(f"/m/{message.pk}/")["Location"].startswith("/dm/bob/?around=")


def test_new_messages_divider_sits_where_the_reader_left_off(client, alice, bob, general):
    say(alice, general, "read already")
    services.mark_read(bob, general.pk, general.messages.order_by("-seq").first().seq)
    say(alice, general, "unread one", "unread two")
    client.force_login(bob)
    page = client.get("/rooms/general/").content.decode()
    assert page.index("read already") < page.index("New messages") < page.index("unread one")
    # Opening the page alone does not mark anything read: the page says so once the person sees it.
    assert Membership.objects.get(room=general, user=bob).last_read_seq == 1


def test_sidebar_shows_unread_counts_per_room_and_dm(client, alice, bob, general):
    dm = services.direct_room(alice, bob)
    say(alice, general, "one", "two")
    say(alice, dm, "psst")
    client.force_login(bob)
    page = client.get("/people/").content.decode()
    assert f'<span id="unread-{general.pk}" class="count">2</span>' in page
    assert f'<span id="unread-{dm.pk}" class="count">1</span>' in page
    client.force_login(alice)
    page = client.get("/people/").content.decode()
    assert f'<span id="unread-{general.pk}" class="count"></span>' in page  # your own messages are read


def test_people_and_dm_lists_show_online_dots(client, alice, bob):
    services.direct_room(alice, bob)
    bobs_socket = ([presence.user_key(bob.pk)], presence.Entry("c1", bob.pk, "bob").encode())
    async_to_sync(presence.store.touch)(*bobs_socket)
    client.force_login(alice)
    online = f'class="dot dot-u-{bob.pk} online"'
    assert client.get("/people/").content.decode().count(online) == 2  # the people list and the DM list
    async_to_sync(presence.store.remove)(*bobs_socket)
    page = client.get("/people/").content.decode()
    assert online not in page and page.count(f'class="dot dot-u-{bob.pk}"') == 2


def test_sidebar_lists_conversations_by_latest_message_and_hides_unwritten_ones(client, alice, bob):
    carol, dave = make_user("carol"), make_user("dave")
    with_bob = services.direct_room(alice, bob)
    with_carol = services.direct_room(alice, carol)
    say(alice, with_carol, *(f"old {i}" for i in range(5)))  # a long conversation, but an old one
    say(bob, with_bob, "newest")
    services.direct_room(dave, alice)  # dave opened a conversation with alice and never wrote
    client.force_login(alice)
    page = client.get("/people/").content.decode()
    sidebar = page[page.index('id="dm-list"') : page.index('id="main"')]
    assert sidebar.index("@bob") < sidebar.index("@carol")
    assert "@dave" not in sidebar
    client.force_login(dave)
    assert "@alice" in client.get("/people/").content.decode().split('id="dm-list"')[1]  # dave sees his own
