"""Property-based fuzzing of what a signed-in person can send: arbitrary websocket frames and query strings.

The properties: the consumer never crashes (the socket stays open and answers the next valid frame), nothing
is logged as an error, and nothing is written that the sender could not write through the page: messages
only from valid sends, in the socket's own room; no change to anyone else's message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rooms import protocol, services
from rooms.consumers import MAX_FRAME
from rooms.models import Message

from .helpers import frames_until, make_user, open_socket, send_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

# One socket serves every example of a test (opening one per example would take most of the time budget);
# the database persists across examples too, which the properties account for. Hence the health check off.
# Derandomized, without an example database: every run (CI's too) tries the same examples, so a failure is
# reproducible and never depends on what an earlier run on this machine found.
FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    database=None,
)


@pytest.fixture
def world(transactional_db, settings):
    # Flood control off: refusals would hide the handlers from the fuzzer (tests/test_hardening.py covers it).
    settings.SEND_RATE = 0
    settings.CATCH_UP_RATE = 0
    settings.FRAME_RATE = 0
    alice, bob, carol = (make_user(n) for n in ("alice", "bob", "carol"))
    general = services.create_room(alice, "General")
    elsewhere = services.create_room(carol, "Elsewhere")
    with_bob = services.direct_room(alice, bob)
    not_hers = services.direct_room(bob, carol)
    post = services.post_message
    others = [
        post(carol, general.pk, "carol in general", uuid.uuid4()).message,  # visible, not hers
        post(carol, elsewhere.pk, "carol elsewhere", uuid.uuid4()).message,  # visible, not hers
        post(bob, with_bob.pk, "bob to alice", uuid.uuid4()).message,  # in her DM, not hers
        post(bob, not_hers.pk, "bob to carol", uuid.uuid4()).message,  # a room she cannot see
    ]
    # Her own, which the fuzzer may edit and delete as she can on the page.
    own = [post(alice, general.pk, f"alice {n}", uuid.uuid4()).message for n in range(5)]
    return {"alice": alice, "general": general, "others": others, "own": own}


def others_state(ids: list[int]) -> list[tuple]:
    # Not their change numbers: her reactions to them are changes of theirs, as on the page.
    fields = ("pk", "room_id", "body", "edited_at", "deleted_at")
    return list(Message.objects.filter(pk__in=ids).order_by("pk").values_list(*fields))


# ---- frames ----------------------------------------------------------------------------------------------

# Every registered action (rooms/protocol.py), with the fields its entry declares, and a client id.
ACTIONS = sorted(protocol.ACTIONS)
FIELDS = {name: [*entry.payload, "client_id"] for name, entry in protocol.ACTIONS.items()}
# Strings a JSON frame can carry that a text frame itself cannot: lone surrogates, NUL, control characters.
half_a_character = st.characters(categories=["Cs"])  # a lone surrogate: JSON can carry one, UTF-8 cannot
any_text = st.text(st.characters() | st.characters(categories=["Cc"]), max_size=40) | st.tuples(
    st.text(max_size=20), half_a_character, st.text(max_size=20)
).map("".join)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)


def frames(others: list[int], own: list[int]):
    """Frames of every action, mostly well-formed with one field or another wrong (where bugs hide), some
    entirely wild, and some that are not JSON objects at all; and bytes frames. Message ids name someone
    else's message, one's own, or none."""
    ids = st.sampled_from(others) | st.sampled_from(own) | st.sampled_from([0, 2**63 - 1])
    numbers = st.integers(min_value=-(2**70), max_value=2**70) | ids.map(str) | st.from_regex(r"\A\d{0,30}\Z")
    good = {
        "body": st.text(min_size=1, max_size=80) | any_text,  # any_text: lone surrogates, NUL, controls
        "client_id": st.uuids().map(str),
        "message_id": ids,
        "seq": st.integers(min_value=0, max_value=10**6),
        "after": st.integers(min_value=0, max_value=10**6),
        "reason": st.text(max_size=100) | any_text,
        "emoji": st.sampled_from(["👍", "🎉", "❤️"]),
        "add": st.sampled_from([0, 1, "1"]),
        "reply_to": st.sampled_from([None, ""]) | ids | ids.map(str),
        "files": st.sampled_from([None, "", " , "]),
        "visible": st.sampled_from([0, 1, "1"]),
    }
    bad = {
        "body": st.sampled_from(["", "   ", "x" * 4000, "y" * 4001, "a\x00b", "<script>alert(1)</script>"])
        | json_values,
        "client_id": st.uuids().map(lambda u: u.hex) | any_text | json_values,
        "message_id": numbers | json_values,
        "seq": numbers | json_values,
        "after": numbers | json_values,
        "reason": st.text(min_size=500, max_size=5000) | json_values,
        "emoji": any_text | json_values,
        "add": numbers | json_values,
        "reply_to": numbers | json_values,
        "files": numbers | json_values | st.sampled_from(["1,2", "x", ",".join(["1"] * 11)]) | any_text,
        "visible": numbers | json_values,
    }
    anything = {name: good[name] | bad[name] for name in good} | {"room_id": numbers | json_values}
    extras = {"HEADERS": json_values, "room_id": numbers | json_values}

    def plausible(action: str):
        fields = {name: weighted((good[name], 3), (bad[name], 1)) for name in FIELDS[action]}
        named = {"action": st.just(action)}
        if action == "send":  # the composer's frames carry no action
            return st.fixed_dictionaries(fields, optional={**named, **extras})
        return st.fixed_dictionaries({**named, **fields}, optional=extras)

    wild = st.fixed_dictionaries(
        {}, optional={"action": st.sampled_from(["", "SEND", "follow", "close_soon", "__init__"]) | json_values}
    ).flatmap(lambda d: st.fixed_dictionaries({}, optional=anything).map(lambda rest: {**rest, **d}))
    objects = weighted((st.one_of(*map(plausible, ACTIONS)), 6), (wild, 1)).flatmap(
        lambda d: st.dictionaries(any_text, json_values, max_size=2).map(lambda extra: {**extra, **d})
    )
    other_text = st.one_of(
        json_values.map(json.dumps),
        st.text(max_size=200),  # not JSON, mostly
        st.integers(min_value=1, max_value=60_000).map(lambda n: "[" * n + "]" * n),  # nested deep
        st.integers(min_value=4300, max_value=6000).map(lambda n: f'{{"action":"read","seq":{"9" * n}}}'),
        st.integers(min_value=MAX_FRAME - 64, max_value=MAX_FRAME + 64).map(lambda n: send_frame("z" * n)),
    )
    return weighted(
        (objects.map(lambda d: ("text", json.dumps(d))), 8),
        (other_text.map(lambda t: ("text", t)), 1),
        (st.binary(max_size=300).map(lambda b: ("bytes", b)), 1),
    )


def weighted(*choices: tuple[st.SearchStrategy, int]) -> st.SearchStrategy:
    """One of the strategies, each drawn about as often as its weight says."""
    return st.sampled_from([s for s, weight in choices for _ in range(weight)]).flatmap(lambda s: s)


def valid_send(text: str, room) -> tuple[str, uuid.UUID] | None:
    """What the page itself could have stored with this frame: (body, client id), or None. Written from the
    rules a person sees, not from the code under test."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("action", "send") != "send" or not isinstance(data.get("body"), str):
        return None
    body = data["body"].strip()
    try:
        client_id = uuid.UUID(str(data.get("client_id")))
    except ValueError:
        return None
    if not body or "\x00" in body or len(body) > Message.MAX_LENGTH:
        return None
    reply_to = data.get("reply_to")
    if isinstance(reply_to, str) and reply_to:
        reply_to = int(reply_to) if reply_to.isascii() and reply_to.isdigit() and len(reply_to) <= 18 else -1
    if reply_to not in (None, "") and not (
        type(reply_to) is int and Message.objects.visible().filter(pk=reply_to, room=room).exists()
    ):
        return None  # an answer to no message of this room (or not a number at all)
    files = data.get("files")
    if files not in (None, "") and not (isinstance(files, str) and not files.replace(",", "").strip()):
        return None  # files, but none uploaded by her (the fuzz uploads none): refused
    return body, client_id


def test_no_frame_crashes_the_consumer_or_writes_what_the_page_could_not(world, caplog):
    caplog.set_level(logging.WARNING)
    alice, general, others = world["alice"], world["general"], world["others"]
    other_ids = [m.pk for m in others]
    before = others_state(other_ids)
    # Client id -> body, of every message that must be stored: hers so far, then the valid sends and probes.
    expected: dict[uuid.UUID, str] = {m.client_id: m.body for m in world["own"]}
    targets = frames(other_ids, [m.pk for m in world["own"]])
    with asyncio.Runner() as runner:
        comm, connected = runner.run(open_socket(alice, f"/ws/rooms/{general.pk}/"))
        assert connected

        async def exchange(kind: str, payload, probe_id: str) -> list[str]:
            await comm.send_input({"type": "websocket.receive", kind: payload})  # empty frames included
            await comm.send_to(text_data=send_frame(f"probe {probe_id}", probe_id))
            return await frames_until(comm, f'data-client-id="{probe_id}" data-ok="1"', timeout=10)

        @FUZZ
        @given(frame=st.data())
        def one_frame(frame) -> None:
            kind, payload = frame.draw(targets)
            probe_id = str(uuid.uuid4())
            # The socket answers the frame after it: it neither crashed nor closed (frames_until fails on a close).
            replies = runner.run(exchange(kind, payload, probe_id))
            for reply in replies:
                reply.encode("utf-8")  # a frame the server can put on the wire (no lone surrogates)
            if kind == "text" and (sent := valid_send(payload, general)) is not None:
                expected.setdefault(sent[1], sent[0])  # a replayed client id is stored once, as first sent
            expected[uuid.UUID(probe_id)] = f"probe {probe_id}"
            mine = dict(Message.objects.filter(author=alice).values_list("client_id", "room_id"))
            assert set(mine) == set(expected)  # stored exactly the valid sends (and the probes)
            assert set(mine.values()) == {general.pk}  # all in the socket's room
            assert others_state(other_ids) == before  # nobody else's message changed

        one_frame()
        runner.run(comm.disconnect())
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or "Exception inside" in r.getMessage()]
    assert errors == []


# ---- query strings ---------------------------------------------------------------------------------------

query = st.dictionaries(
    st.sampled_from(["before", "after", "around", "page", "next", "q"]) | st.text(max_size=8),
    st.text(max_size=30) | st.integers(min_value=-(2**80), max_value=2**80).map(str),
    max_size=3,
)


def test_no_query_string_or_id_makes_a_page_fail(world):
    alice, general, others = world["alice"], world["general"], world["others"]
    client = Client()
    client.force_login(alice)
    huge = st.integers(min_value=0, max_value=10**30).map(str)

    @FUZZ
    @given(
        path=st.sampled_from(
            [f"/rooms/{general.pk}/history/", "/rooms/general/", "/dm/bob/", *(f"/m/{m.pk}/" for m in others)]
        )
        | huge.map(lambda n: f"/rooms/{n}/history/")
        | huge.map(lambda n: f"/m/{n}/")
        | st.text(st.characters(codec="utf-8", exclude_characters="/?#%"), min_size=1, max_size=20).map(
            lambda s: f"/rooms/{s}/"
        ),
        params=query,
    )
    def one_request(path: str, params: dict) -> None:
        response = client.get(path, params)
        assert response.status_code in {200, 302, 400, 404}, (path, params, response.status_code)

    one_request()
