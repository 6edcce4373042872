"""A new person starts in the default room (set in admin) instead of an empty sidebar."""

from __future__ import annotations

import pytest
from django.test import Client

from rooms.models import Membership, Room


def sign_up(username: str):
    return Client().post(
        "/accounts/signup/",
        {"username": username, "email": f"{username}@example.com", "password1": "correct-horse-battery",
         "password2": "correct-horse-battery"},
    )  # fmt: skip


@pytest.mark.django_db
def test_someone_who_signs_up_joins_the_default_rooms_and_starts_in_the_first(people):
    Room.objects.filter(pk=people["general"].pk).update(is_default=True)
    Room.objects.filter(pk=people["elsewhere"].pk).update(is_default=True)
    response = sign_up("newcomer")
    assert response.status_code == 302 and response.url == "/rooms/elsewhere/"  # the first by name
    joined = set(Membership.objects.filter(user__username="newcomer").values_list("room__slug", flat=True))
    assert joined == {"general", "elsewhere"}


@pytest.mark.django_db
def test_without_a_default_room_a_new_person_lands_on_the_room_list(people):
    response = sign_up("newcomer")
    assert response.status_code == 302 and response.url == "/"
    assert not Membership.objects.filter(user__username="newcomer").exists()


@pytest.mark.django_db
def test_an_archived_default_room_takes_nobody_in(people):
    from moderation import services as moderation

    Room.objects.filter(pk=people["general"].pk).update(is_default=True)
    moderation.set_archived(people["mod"], Room.objects.get(pk=people["general"].pk), True)
    assert sign_up("newcomer").url == "/"
    assert not Membership.objects.filter(user__username="newcomer").exists()
