"""Page speed on a big room: room, DM and history pages against a room of 100,000 messages.

Run from the repo root with Roomcast's production environment set (run.py --pages does it). Fills one room
with `--messages` messages (one INSERT ... SELECT, not through the message path: only reading is measured),
a direct conversation with a thousand, then requests each page through Django's test client in this process
and prints, per page: database queries, and p50/p95 time over `--repeat` requests. Last line: JSON rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from rooms import services  # noqa: E402
from rooms.models import Membership, Message, Room  # noqa: E402


def fill(room: Room, authors: list, count: int) -> None:
    """`count` messages in `room` by turns from `authors`, numbered after its last change."""
    start = room.last_seq
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Message._meta.db_table} (room_id, author_id, seq, changed_seq, body, client_id, created_at)
            SELECT %s, (%s::bigint[])[1 + n %% %s], %s + n, %s + n, 'message number ' || n || ' of the bench',
                   gen_random_uuid(), now() - (%s - n) * interval '1 second'
            FROM generate_series(1, %s) AS n""",
            [room.pk, [a.pk for a in authors], len(authors), start, start, count, count],
        )
    Room.objects.filter(pk=room.pk).update(last_seq=start + count)
    room.refresh_from_db()


def measure(client: Client, url: str, repeat: int) -> dict:
    client.get(url)  # warm: templates, first connection
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    times.sort()
    return {
        "queries": queries,
        "p50": round(statistics.median(times), 1),
        "p95": round(times[int(0.95 * (len(times) - 1))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("pages.py fills the room with PostgreSQL's generate_series: set DATABASE_URL")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    User = get_user_model()
    alice, bob = (
        User.objects.get_or_create(username=n, defaults={"email": f"{n}@bench.invalid"})[0]
        for n in ("pages-alice", "pages-bob")
    )
    others = [User.objects.get_or_create(username=f"pages-{i:02d}")[0] for i in range(20)]

    started = time.monotonic()
    room = Room.objects.filter(slug="pages-big").first() or services.create_room(alice, "Pages big")
    for person in [bob, *others]:
        services.join(person, room)
    if room.last_seq < args.messages:
        fill(room, [alice, bob, *others], args.messages - room.last_seq)
    dm = services.direct_room(alice, bob)
    if dm.last_seq < 1000:
        fill(dm, [alice, bob], 1000 - dm.last_seq)
    Membership.objects.filter(user=alice).update(last_read_seq=10**9)  # alice has read everything
    Membership.objects.filter(user=bob, room=room).update(last_read_seq=room.last_seq // 2)  # bob: 50,000 unread
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"[pages] {room.last_seq} messages in {room.name}, ready in {time.monotonic() - started:.1f} s", file=sys.stderr
    )

    middle = Message.objects.get(room=room, seq=room.last_seq // 2)
    pages = [
        ("room page, all read", alice, room.get_absolute_url()),
        ("room page, 50,000 unread", bob, room.get_absolute_url()),
        ("DM page (1,000 messages)", alice, reverse("rooms:direct", args=[bob.username])),
        ("history: 50 before the middle", alice, f"{reverse('rooms:history', args=[room.pk])}?before={middle.seq}"),
        ("history: the oldest 50", alice, f"{reverse('rooms:history', args=[room.pk])}?before=52"),
        ("history: 50 after the middle", alice, f"{reverse('rooms:history', args=[room.pk])}?after={middle.seq}"),
        ("permalink view of the middle", alice, f"{room.get_absolute_url()}?around={middle.seq}"),
        ("home (room list)", alice, reverse("rooms:index")),
    ]
    rows = []
    clients = {}
    for name, user, url in pages:
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        rows.append({"page": name, "messages": room.last_seq, **measure(clients[user.pk], url, args.repeat)})
    print(f"{'page':<32} {'queries':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for r in rows:
        print(f"{r['page']:<32} {r['queries']:>7} {r['p50']:>7} {r['p95']:>7}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
