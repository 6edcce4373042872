"""The write rule is stated once (rooms/access.py) and spelled out again in SQL for speed (the one-statement
send on PostgreSQL; step by step on SQLite): both must say the same for every kind of person and room."""

import datetime as dt
import itertools
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from moderation import services as moderation
from rooms import access, services
from rooms.models import Mute

from .helpers import make_user
from .support.moderation import make_moderator


@pytest.mark.django_db(transaction=True)
def test_the_send_path_stores_exactly_when_the_rule_allows():
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    mod = make_moderator()
    rooms = {
        "open": services.create_room(alice, "Open"),
        "locked": services.create_room(alice, "Locked"),
        "archived": services.create_room(alice, "Archived"),
        "direct": services.direct_room(alice, bob),
        "muted-in": services.create_room(alice, "Muted in"),
    }
    moderation.set_locked(mod, rooms["locked"], True)
    moderation.set_archived(mod, rooms["archived"], True)
    Mute.objects.create(room=rooms["muted-in"], user=carol, until=timezone.now() + dt.timedelta(hours=1))
    Mute.objects.create(room=rooms["direct"], user=bob, until=timezone.now() + dt.timedelta(hours=1))
    verdicts = []
    for (name, room), person in itertools.product(rooms.items(), (alice, bob, carol, mod)):
        allowed = access.send_refusal(person, room.pk) is None
        with transaction.atomic():
            try:
                services.post_message(person, room.pk, "probe", uuid.uuid4())
                stored = True
            except services.ChatError:
                stored = False
            transaction.set_rollback(True)  # each case from the same state
        verdicts.append((name, person.username, allowed, stored))
        assert allowed == stored, (name, person.username, allowed, stored)
    # The cases cover both answers for each kind of room: the rule is not trivially true or false.
    assert {(n, a) for n, _, a, _ in verdicts} >= {
        ("open", True), ("locked", True), ("locked", False), ("archived", False), ("direct", True),
        ("direct", False), ("muted-in", True), ("muted-in", False),
    }  # fmt: skip
