"""Moderators and the small steps moderation tests share."""

import importlib
import json
import uuid

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client

from moderation.models import ModerationLog
from rooms import services
from rooms.models import Membership, Message, Room

from ..helpers import make_user

PASSWORD = "correct-horse-battery"  # tests.helpers.make_user's


group_migration = importlib.import_module("moderation.migrations.0002_moderators_group")


def live(test):
    """A test over real sockets: committed data (the server side reads it from other threads) and Redis."""
    for mark in (pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.redis):
        test = mark(test)
    return test


def make_moderator(username: str = "mod"):
    """Staff in the Moderators group, not a superuser. The group comes from the migration; a transactional
    test's flush empties the tables, so make it again the same way."""
    group_migration.create_moderators_group(apps, None)
    mod = make_user(username, is_staff=True)
    mod.groups.add(Group.objects.get(name=group_migration.GROUP))
    return mod


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def action(name: str, **fields) -> str:
    return json.dumps({"action": name, **fields})


def logged(action_name: str, **fields) -> bool:
    return ModerationLog.objects.filter(action=action_name, **fields).exists()


def post(user, room, body: str) -> Message:
    return services.post_message(user, room.pk, body, uuid.uuid4()).message


def room_change_form(room: Room, remove: set[int] = frozenset(), **fields) -> dict:
    """What admin's change page of a room posts: `fields`, and its members inline as they are, but for the
    people whose ids are in `remove`, ticked for deletion."""
    rows = list(Membership.objects.filter(room=room).order_by("pk"))
    data = {
        "_save": "Save", "memberships-TOTAL_FORMS": len(rows), "memberships-INITIAL_FORMS": len(rows),
        "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000, **fields,
    }  # fmt: skip
    for i, row in enumerate(rows):
        data |= {
            f"memberships-{i}-id": row.pk, f"memberships-{i}-room": room.pk, f"memberships-{i}-user": row.user_id,
        }  # fmt: skip
        if row.user_id in remove:
            data[f"memberships-{i}-DELETE"] = "on"
    return data
