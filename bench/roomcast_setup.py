"""Prepare Roomcast's bench database: N users, one open room they all belong to, one login session each.

Run from the repo root with Roomcast's production environment (DATABASE_URL, REDIS_URL, ...) already set;
run.py does it. Prints JSON: {"room_id": ..., "sessions": [session keys, one per user, in user order]}.
Users are bench00001..; existing ones (from an earlier call in the same run) are reused, and the room is
per member count ("bench-100"), so a run can measure several sizes on one database.

--push-file FILE (push_sink.py's output): one more member per subscription in it, push00001.., involvement
"everything", no session (no socket will be open for them, so each notification pass pushes to them), each
with that subscription as its one PushSubscription (endpoint, keys), as the browser's subscribe would save it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from rooms import services  # noqa: E402
from rooms.models import Membership, PushSubscription, Room  # noqa: E402
from rooms.notify import push  # noqa: E402

# Joining through services.join() sends a "subscribe" event per user (for their open pages; there are none
# yet). Past this many new members the same rows are bulk-inserted instead, which is what join() stores.
JOIN_ONE_BY_ONE_MAX = 2000
BACKEND = "accounts.backends.ModelBackend"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--push-file", type=Path, help="push_sink.py's subscriptions: one push member each")
    args = parser.parse_args()
    started = time.monotonic()
    User = get_user_model()
    names = [f"bench{i:05d}" for i in range(1, args.members + 1)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)  # nobody logs in by password; the session hash derives from this field
    User.objects.bulk_create(
        [User(username=n, email=f"{n}@bench.invalid", password=unusable) for n in names if n not in existing],
        batch_size=2000,
    )
    users = list(User.objects.filter(username__in=names).order_by("username"))

    room = Room.objects.filter(slug=f"bench-{args.members}").first()
    if room is None:
        room = services.create_room(users[0], f"bench-{args.members}", "benchmark room")
    members = set(Membership.objects.filter(room=room).values_list("user_id", flat=True))
    joining = [u for u in users if u.pk not in members]
    if len(joining) <= JOIN_ONE_BY_ONE_MAX:
        with transaction.atomic():
            for user in joining:
                services.join(user, room)
    else:
        Membership.objects.bulk_create(
            [Membership(room=room, user=u, last_read_seq=room.last_seq) for u in joining], batch_size=2000
        )

    push_members = add_push_members(room, args.push_file) if args.push_file else 0

    # One logged-in session per user, as django.contrib.auth.login() would store it.
    store = SessionStore()
    expire = timezone.now() + timedelta(days=1)
    sessions = []
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: BACKEND, HASH_SESSION_KEY: user.get_session_auth_hash()}
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
    Session.objects.bulk_create(sessions, batch_size=2000)
    print(
        json.dumps(
            {
                "room_id": room.pk,
                "sessions": [s.session_key for s in sessions],
                "push_members": push_members,
                "seconds": round(time.monotonic() - started, 2),
            }
        )
    )


def add_push_members(room: Room, path: Path) -> int:
    """The sink's subscribers as members of the room who only hear of it by Web Push."""
    subscriptions = json.loads(path.read_text())["subscriptions"]
    if not subscriptions:
        return 0
    User = get_user_model()
    names = [f"push{i:05d}" for i in range(1, len(subscriptions) + 1)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        [User(username=n, email=f"{n}@bench.invalid", password=make_password(None)) for n in names if n not in existing]
    )
    users = list(User.objects.filter(username__in=names).order_by("username"))
    with transaction.atomic():
        for user, sub in zip(users, subscriptions, strict=True):
            membership = services.join(user, room)
            if membership.involvement != Membership.Involvement.EVERYTHING:
                membership.involvement = Membership.Involvement.EVERYTHING
                membership.save(update_fields=["involvement"])
            # A subscription of an earlier sink (an earlier run on this database) would only be refused: gone.
            PushSubscription.objects.filter(user=user).exclude(endpoint=sub["endpoint"]).delete()
            push.save_subscription(
                user,
                sub["endpoint"],
                sub["p256dh"],
                sub["auth"],
                "bench push sink",
                settings.LANGUAGE_CODE,
                session_key="",  # subscribed in no login of theirs: no logout takes it off
            )
    return len(users)


if __name__ == "__main__":
    main()
