"""The quick switcher's list (Ctrl/Cmd+K) and the room page's members panel, as the Django test client sees
them."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Profile
from rooms import services

from .helpers import make_user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_switcher_finds_rooms_and_people_by_name(people):
    services.create_room(people["bob"], "Gardening")
    dave = make_user("dave")
    Profile.objects.create(user=dave, display_name="Gardener Dave")
    client = signed_in(people["alice"])
    found = client.get("/switch/", {"q": "garden"}, headers={"HX-Request": "true"}).content.decode()
    assert "# Gardening" in found and "Gardener Dave" in found and "@dave" in found
    assert "<html" not in found  # a fragment for the dialog
    assert "General" not in found and "@bob" not in found
    nothing = client.get("/switch/", {"q": "zzz"}, headers={"HX-Request": "true"}).content.decode()
    assert "Nothing called anything like “zzz”" in nothing
    page = client.get("/switch/", {"q": "garden"}).content.decode()  # without JS: a page of its own
    assert "<html" in page and "# Gardening" in page


@pytest.mark.django_db
def test_the_switcher_never_offers_oneself_or_inactive_people(people):
    make_user("alicia", is_active=False)
    found = signed_in(people["alice"]).get("/switch/", {"q": "ali"}, headers={"HX-Request": "true"})
    assert "@alice" not in found.content.decode() and "@alicia" not in found.content.decode()


@pytest.mark.django_db
def test_the_switcher_offers_no_archived_room(people):
    from moderation import services as moderation

    old = services.create_room(people["bob"], "Gardening archive")
    moderation.set_archived(people["mod"], old, True)
    services.create_room(people["bob"], "Gardening")
    found = signed_in(people["alice"]).get("/switch/", {"q": "garden"}, headers={"HX-Request": "true"})
    assert "# Gardening" in found.content.decode() and "archive" not in found.content.decode()


@pytest.mark.django_db
def test_a_room_page_lists_its_members_with_a_count(people):
    page = signed_in(people["alice"]).get("/rooms/general/").content.decode()
    panel = page[page.index('id="members"') :].split("</aside>")[0]
    assert all(name in panel for name in ("alice", "bob", "carol")) and "mod" not in panel
    assert "3 members" in page


@pytest.mark.django_db
def test_mark_all_read_clears_every_count_and_goes_back(people):
    import uuid

    services.post_message(people["bob"], people["general"].pk, "one", uuid.uuid4())
    services.post_message(people["bob"], people["dm"].pk, "two", uuid.uuid4())
    alice = people["alice"]
    assert {unread for unread, _ in services.counts(alice).values()} == {1}
    client = signed_in(alice)
    response = client.post("/read-all/", {"next": "/rooms/general/"})
    assert response.status_code == 302 and response.url == "/rooms/general/"
    assert {unread for unread, _ in services.counts(alice).values()} == {0}
    assert client.post("/read-all/", {"next": "https://evil.example/"}).url == "/"  # never off the site
    assert client.get("/read-all/").status_code == 405


@pytest.mark.django_db
def test_mark_all_read_tells_each_person_of_their_own_conversations_only(
    people, monkeypatch, django_capture_on_commit_callbacks
):
    import uuid

    import realtime

    services.post_message(people["bob"], people["dm"].pk, "for alice", uuid.uuid4())
    services.post_message(people["alice"], people["elsewhere"].pk, "for carol", uuid.uuid4())
    sent = []
    monkeypatch.setattr(realtime, "send_frames", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(people["carol"]).post("/read-all/")
    # carol's Elsewhere count goes to zero on her pages; alice's conversation with bob is not named to her.
    assert len(sent) == 1 and f"unread-{people['elsewhere'].pk}" in str(sent)
    assert f"unread-{people['dm'].pk}" not in str(sent)
