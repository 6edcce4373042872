"""The people every test module shares, so a scene reads the same everywhere: alice made General and bob and
carol joined it; carol made Elsewhere (alice is not in it); alice and bob have a direct conversation; mod
is a moderator (the Moderators group, not a superuser); `cookies` signs the first three in. alice and bob
are also fixtures of their own, for tests that need nothing else."""

from __future__ import annotations

import pytest

from rooms import services

from ..helpers import make_user, session_cookie
from .moderation import make_moderator


@pytest.fixture
def people(transactional_db) -> dict:
    alice, bob, carol = (make_user(n) for n in ("alice", "bob", "carol"))
    general = services.create_room(alice, "General")
    for person in (bob, carol):
        services.join(person, general)
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "mod": make_moderator(),
        "general": general,
        "elsewhere": services.create_room(carol, "Elsewhere"),
        "dm": services.direct_room(alice, bob),
        # A signed-in session's Cookie header for each, for real servers and sockets.
        "cookies": {u.username: f"sessionid={session_cookie(u)}" for u in (alice, bob, carol)},
    }


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def bob():
    return make_user("bob")
