"""Smoke test of the embedded default: no DATABASE_URL, no REDIS_URL, one Daphne process, a room served."""

import json
import re
import urllib.parse
import urllib.request
import uuid

from websockets.sync.client import connect

from .support.servers import read_frames, sign_in, stalled_socket


def test_embedded_default_serves_a_room_and_broadcasts(embedded_server):
    base = f"http://{embedded_server}"
    cookies = sign_in(base, "alice")
    page = urllib.request.urlopen(urllib.request.Request(f"{base}/rooms/general/", headers={"Cookie": cookies}))
    page = page.read().decode()
    assert "Welcome to Roomcast!" in page
    room_id = re.search(r'ws-connect="/ws/rooms/(\d+)/[?"]', page).group(1)

    with connect(
        f"ws://{embedded_server}/ws/rooms/{room_id}/", additional_headers={"Cookie": cookies, "Origin": base}
    ) as ws:
        ws.send(json.dumps({"body": "smoke test says hi", "client_id": str(uuid.uuid4())}))
        frames = [ws.recv(timeout=5), ws.recv(timeout=5)]
    assert any("smoke test says hi" in f for f in frames)  # the in-memory layer broadcast it back
    assert any('data-ok="1"' in f for f in frames)
    again = urllib.request.urlopen(urllib.request.Request(f"{base}/rooms/general/", headers={"Cookie": cookies}))
    assert "smoke test says hi" in again.read().decode()


def test_a_client_that_stops_reading_is_sent_away_and_the_room_goes_on(uvicorn_server):
    base = f"http://{uvicorn_server}"
    alice, bob = sign_in(base, "alice"), sign_in(base, "bob")
    page = urllib.request.urlopen(urllib.request.Request(f"{base}/rooms/general/", headers={"Cookie": bob}))
    path = re.search(r'ws-connect="(/ws/rooms/\d+/)[?"]', page.read().decode()).group(1)
    stalled = stalled_socket(uvicorn_server, path, bob)

    sent = 1000  # enough to fill the kernel's buffers (they grow to a few MB) and then bob's outbox
    body = "ж" * 3990
    with connect(f"ws://{uvicorn_server}{path}", additional_headers={"Cookie": alice, "Origin": base}) as ws:
        for n in range(sent):
            client_id = str(uuid.uuid4())
            ws.send(json.dumps({"body": f"{n} {body}", "client_id": client_id}))
            while f'data-client-id="{client_id}" data-ok="1"' not in ws.recv(timeout=5):
                pass  # alice's own copy comes first, then her acknowledgement: the room never waited for bob

    texts, code = read_frames(stalled)
    assert code == 1013  # "try again later": the ws extension reconnects, and the page catches up
    assert len(texts) < sent and not any(f"{sent - 1} ж" in t for t in texts)  # dropped, not kept for him

    seen = max(int(n) for n in re.findall(r'data-changed="(\d+)"', "".join(texts)))
    with connect(f"ws://{uvicorn_server}{path}", additional_headers={"Cookie": bob, "Origin": base}) as ws:
        ws.send(json.dumps({"action": "catch_up", "after": seen}))
        # Back, he missed more than a catch-up replays (hundreds of long messages): his page reloads...
        while 'data-reload="1"' not in ws.recv(timeout=5):
            pass
    # ... and shows the room as it is now, from the database.
    page = urllib.request.urlopen(urllib.request.Request(f"{base}/rooms/general/", headers={"Cookie": bob}))
    assert f"{sent - 1} ж" in page.read().decode()
