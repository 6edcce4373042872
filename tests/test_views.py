"""Pages as a signed-in (or not) person gets them through the Django test client."""

import uuid

import pytest
from django.urls import reverse

from rooms import services
from rooms.models import Membership, Room

from .helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.mark.parametrize("url", ["/", "/rooms/general/", "/dm/bob/", "/people/"])
def test_chat_pages_require_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_signup_then_land_on_the_room_list(client):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "dora",
            "email": "dora@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("rooms:index")
    assert b"dora" in response.content and b"Create a room" in response.content


@pytest.mark.parametrize("login", ["alice", "alice@example.com"])
def test_login_by_username_or_email(client, alice, login):
    response = client.post(reverse("account_login"), {"login": login, "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_create_room_makes_a_slug_and_a_member(alice_client, alice):
    response = alice_client.post("/", {"name": "Design  Review", "description": "Pixels"})
    room = Room.objects.get(name="Design Review")
    assert response["Location"] == "/rooms/design-review/"
    assert room.description == "Pixels"
    assert Membership.objects.filter(room=room, user=alice).exists()
    page = alice_client.get("/")
    assert b"# Design Review" in page.content and b"Pixels" in page.content


@pytest.mark.parametrize("duplicate", ["General", "general", "GENERAL!", " general "])
def test_create_room_refuses_duplicate_names(alice_client, alice, duplicate):
    services.create_room(alice, "General")
    response = alice_client.post("/", {"name": duplicate})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert Room.objects.filter(kind="open").count() == 1


@pytest.mark.parametrize(("name", "error"), [("", "This field is required"), ("!!!", "at least one letter or digit")])
def test_create_room_refuses_bad_names(alice_client, name, error):
    response = alice_client.post("/", {"name": name})
    assert response.status_code == 400
    assert error in response.content.decode()


def test_room_list_shows_member_counts(alice_client, alice, bob):
    room = services.create_room(alice, "General", "Chat")
    services.join(bob, room)
    content = alice_client.get("/").content.decode()
    assert '<td class="num">2</td>' in content


def test_room_page_renders_the_last_fifty_messages_in_order_escaped(alice_client, alice, django_assert_max_num_queries):
    room = services.create_room(alice, "General")
    for i in range(55):
        services.post_message(alice, room.pk, f"message {i:02d}", uuid.uuid4())
    services.post_message(alice, room.pk, "<script>alert(1)</script>", uuid.uuid4())
    with django_assert_max_num_queries(13):  # one of them the page's files, whatever their number
        content = alice_client.get("/rooms/general/").content.decode()
    assert "message 05" not in content and "message 06" in content
    assert content.index("message 06") < content.index("message 54")
    assert "<script>alert(1)</script>" not in content and "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert f'ws-connect="/ws/rooms/{room.pk}/?lang=en"' in content and "ws-send" in content


def test_opening_a_room_shows_it_and_joining_is_a_post(client, alice, bob):
    room = services.create_room(alice, "General")
    client.force_login(bob)
    page = client.get("/rooms/general/").content.decode()
    assert not Membership.objects.filter(room=room, user=bob).exists()  # a look changes nothing
    assert 'action="/rooms/general/join/"' in page and "Join this room" in page
    assert client.get("/rooms/general/join/").status_code == 405
    assert client.post("/rooms/general/join/").headers["Location"] == "/rooms/general/"
    assert Membership.objects.filter(room=room, user=bob).exists()
    assert "Join this room" not in client.get("/rooms/general/").content.decode()


def test_the_first_message_joins_the_room(client, alice, bob):
    room = services.create_room(alice, "General")
    services.post_message(bob, room.pk, "hello", uuid.uuid4())
    assert Membership.objects.filter(room=room, user=bob).exists()


def test_looking_at_a_dm_page_starts_no_conversation_and_the_first_message_does(client, alice, bob):
    client.force_login(alice)
    page = client.get("/dm/bob/").content.decode()
    assert not Room.objects.filter(kind="direct").exists()  # a look (or a link, a prefetch) starts nothing
    assert 'method="post"' in page and "ws-send" not in page
    refused = client.post("/dm/bob/", {"body": "   ", "client_id": str(uuid.uuid4())})
    assert refused.status_code == 400 and "Message is empty." in refused.content.decode()
    assert not Room.objects.filter(kind="direct").exists()  # a refused first message leaves nothing behind
    started = client.post("/dm/bob/", {"body": "hi bob", "client_id": str(uuid.uuid4())})
    assert started.headers["Location"] == "/dm/bob/"
    (dm,) = Room.objects.filter(kind="direct")
    assert list(dm.messages.values_list("body", flat=True)) == ["hi bob"]
    assert "hi bob" in client.get("/dm/bob/").content.decode()


def test_unknown_room_is_404(alice_client):
    assert alice_client.get("/rooms/nowhere/").status_code == 404


def test_dm_page_shows_the_conversation_to_its_two_people_only(client, alice, bob):
    carol = make_user("carol")
    dm = services.direct_room(alice, bob)
    services.post_message(bob, dm.pk, "psst alice", uuid.uuid4())

    for me, other in ((alice, "bob"), (bob, "alice")):
        client.force_login(me)
        content = client.get(f"/dm/{other}/").content.decode()
        assert "psst alice" in content and f'ws-connect="/ws/rooms/{dm.pk}/?lang=en"' in content

    client.force_login(carol)
    for url in ("/dm/alice/", "/dm/bob/", "/", "/people/"):
        assert "psst alice" not in client.get(url).content.decode()
    # Carol's /dm/alice/ would be her own, separate conversation: looking at it starts none.
    assert Room.objects.filter(kind="direct").count() == 1


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_dm_with_yourself_or_nobody_is_404(alice_client, username):
    assert alice_client.get(f"/dm/{username}/").status_code == 404


def test_no_new_dm_with_a_deactivated_user_but_the_old_one_stays_readable(alice_client, alice, bob):
    carol = make_user("carol")
    dm = services.direct_room(alice, bob)
    services.post_message(bob, dm.pk, "before I left", uuid.uuid4())
    for person in (bob, carol):
        person.is_active = False
        person.save()
    assert "before I left" in alice_client.get("/dm/bob/").content.decode()
    assert alice_client.get("/dm/carol/").status_code == 404


def test_a_direct_conversation_cannot_be_changed_in_admin(client, alice, bob):
    dm = services.direct_room(alice, bob)
    admin_user = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    page = client.get(f"/admin/rooms/room/{dm.pk}/change/").content.decode()
    no_new_members = 'name="memberships-MAX_NUM_FORMS" value="0"'
    assert no_new_members in page and 'name="name"' not in page and 'name="memberships-0-user"' not in page
    open_room = services.create_room(alice, "General")
    page = client.get(f"/admin/rooms/room/{open_room.pk}/change/").content.decode()
    assert no_new_members not in page and 'name="kind"' not in page  # kind is fixed once chosen


def test_deleting_an_account_with_messages_is_refused_deactivate_instead(client, alice):
    room = services.create_room(alice, "General")
    services.post_message(alice, room.pk, "keep me", uuid.uuid4())
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    response = client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"})
    assert "protected" in response.content.decode()
    assert room.messages.filter(body="keep me").exists()


def test_sidebar_lists_my_dm_conversations_with_the_other_name(alice_client, alice, bob):
    services.direct_room(alice, bob)
    content = alice_client.get("/").content.decode()
    assert 'id="dm-list"' in content and "@bob" in content


def test_people_list_offers_a_message_link(alice_client, bob):
    content = alice_client.get("/people/").content.decode()
    assert 'href="/dm/bob/"' in content and 'href="/dm/alice/"' not in content


def test_deactivated_user_is_signed_out_of_pages(alice_client, alice):
    alice.is_active = False
    alice.save()
    assert alice_client.get("/").status_code == 302


def test_admin_lists_rooms_messages_and_users(client):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    room = services.create_room(admin, "General")
    services.post_message(admin, room.pk, "moderate me", uuid.uuid4())
    client.force_login(admin)
    assert "moderate me" in client.get("/admin/rooms/message/?q=moderate").content.decode()
    assert "General" in client.get("/admin/rooms/room/?kind__exact=open").content.decode()
    assert "admin@example.com" in client.get("/admin/auth/user/?is_active__exact=1").content.decode()
