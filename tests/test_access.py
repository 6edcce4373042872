"""The write rule is stated once (rooms/access.py: send_refusal and its SQL predicate, write_sql), and the store
(rooms/services/store.py) has two twins: the one-statement insert PostgreSQL runs and the ORM steps SQLite runs.
Both twins, and the send path over them, must store exactly when the rule allows, for every kind of person
and room. The twins are portable SQL, so both run here whichever database the suite has."""

import datetime as dt
import itertools
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from moderation import services as moderation
from rooms import access, services
from rooms.models import Mute
from rooms.services import store

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

    def send(person, room) -> bool:
        try:
            services.post_message(person, room.pk, "probe", uuid.uuid4())
            return True
        except services.ChatError:
            return False

    def twin(store_it):
        def stores(person, room) -> bool:
            moderator = access.is_moderator(person)
            draft = store.Draft("probe", "<p>probe</p>", uuid.uuid4(), timezone.now())
            return store_it(person, room.pk, draft, moderator) is not None

        return stores

    paths = {
        "send": send,
        "one statement": twin(store._store_in_one_statement),
        "steps": twin(store._store_in_steps),
    }
    verdicts = []
    for (name, room), person in itertools.product(rooms.items(), (alice, bob, carol, mod)):
        allowed = access.send_refusal(person, room.pk) is None
        for path, stores in paths.items():
            with transaction.atomic():
                stored = stores(person, room)
                transaction.set_rollback(True)  # each case from the same state
            assert allowed == stored, (path, name, person.username, allowed, stored)
        verdicts.append((name, person.username, allowed))
    # The cases cover both answers for each kind of room: the rule is not trivially true or false.
    assert {(n, a) for n, _, a in verdicts} >= {
        ("open", True), ("locked", True), ("locked", False), ("archived", False), ("direct", True),
        ("direct", False), ("muted-in", True), ("muted-in", False),
    }  # fmt: skip
