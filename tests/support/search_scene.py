"""One scene for search and what alice finds in it, checked on both databases: tests/test_search.py builds it
in the suite's database (PostgreSQL), and runs this module in a fresh process on a new SQLite file
(`python manage.py shell -c "from tests.support.search_scene import main; main()"`), which prints what each
query finds as JSON for the test to compare with FINDS, and whether the FTS5 index holds exactly the texts.

alice reads General (bob, carol and her), Plans (carol's; open, so readable without joining), the archived
Attic, and her conversation with bob; not bob and carol's conversation.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import uuid

from django.conf import settings
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

from accounts.models import Profile
from rooms import services
from rooms.models import Message, Room

from ..helpers import make_user

# (author, where, text, days ago)
MESSAGES = [
    ("bob", "general", "We deploy the new version on Friday", 2),
    ("carol", "general", "Redeployment finished without errors", 1),
    ("carol", "general", "<script>alert('x')</script> deploy test", 0),
    ("bob", "general", "今天部署新版本，大家注意", 3),
    ("carol", "plans", "部署完成了", 1),
    ("bob", "alice-bob", "The deploy key is in the vault", 1),
    ("bob", "bob-carol", "Carol, the deploy password is hunter2", 1),
    ("alice", "general", "Notes for the plan: https://example.com/plan", 5),
    ("bob", "attic", "Archived but still searchable: giraffe", 10),
    ("carol", "general", "Old news about the giraffe", 40),
    ("bob", "general", "デプロイしました", 1),
    ("bob", "general", "Draft of the memo 草稿", 1),  # edited below: found by its new words only
    ("alice", "scratch", "Scratch giraffe", 1),  # its room is deleted below, messages and all
]
REMOVED = ("bob", "general", "A removed giraffe", 1)

# What alice finds (message texts, best first) for each query, on either database. The dates are relative
# to today, so before:/after: name days counted back from now (see `day`).
FINDS = {
    # Whole words first (newest first among them), then the word inside another; someone else's
    # conversation never.
    "deploy": [
        "<script>alert('x')</script> deploy test",
        "The deploy key is in the vault",
        "We deploy the new version on Friday",
        "Redeployment finished without errors",
    ],
    "DEPLOY": [
        "<script>alert('x')</script> deploy test",
        "The deploy key is in the vault",
        "We deploy the new version on Friday",
        "Redeployment finished without errors",
    ],
    # Part of a word (start and middle): every one is partial, so the newest first.
    "deplo": [
        "<script>alert('x')</script> deploy test",
        "The deploy key is in the vault",  # as old as the next: the later message first
        "Redeployment finished without errors",
        "We deploy the new version on Friday",
    ],
    "ployment": ["Redeployment finished without errors"],
    "部署": ["部署完成了", "今天部署新版本，大家注意"],
    "部署新版本": ["今天部署新版本，大家注意"],
    "新": ["今天部署新版本，大家注意"],
    "デプロイ": ["デプロイしました"],
    "プ": ["デプロイしました"],
    "giraffe": ["Archived but still searchable: giraffe", "Old news about the giraffe"],
    '"deploy the new"': ["We deploy the new version on Friday"],
    '"the new deploy"': [],
    "deploy version": ["We deploy the new version on Friday"],
    "from:carol deplo": ["<script>alert('x')</script> deploy test", "Redeployment finished without errors"],
    "from:Robert deploy": ["The deploy key is in the vault", "We deploy the new version on Friday"],
    "in:#general deploy": [
        "<script>alert('x')</script> deploy test",
        "We deploy the new version on Friday",
        "Redeployment finished without errors",
    ],
    "in:#plans": ["部署完成了"],
    "in:@bob": ["The deploy key is in the vault"],
    "in:@bob in:#general 部署": ["今天部署新版本，大家注意"],
    "has:link": ["Notes for the plan: https://example.com/plan"],
    "has:link deploy": [],
    "giraffe after:{20}": ["Archived but still searchable: giraffe"],
    "giraffe before:{20}": ["Old news about the giraffe"],
    "after:{6} before:{4} from:alice": ["Notes for the plan: https://example.com/plan"],
    "after:{5} from:alice": [],  # after that day: not on it
    "before:{5} from:alice": [],  # before that day: not on it
    "hunter2": [],
    "removed": [],
    "memo": ["Final memo 定稿"],
    "draft": [],
    "草稿": [],
    "定稿": ["Final memo 定稿"],
}


def day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


def query_text(query: str) -> str:
    """The query with its {N} replaced by the date N days ago."""
    return re.sub(r"\{(\d+)\}", lambda m: day(int(m[1])), query)


def build() -> dict:
    """The people, rooms and messages above; returns the people and rooms by name."""
    alice, bob, carol = (make_user(name) for name in ("alice", "bob", "carol"))
    Profile.objects.create(user=bob, display_name="Robert")
    general = services.create_room(alice, "General")
    for person in (bob, carol):
        services.join(person, general)
    attic = services.create_room(bob, "Attic")
    where = {
        "general": general,
        "plans": services.create_room(carol, "Plans"),
        "attic": attic,
        "alice-bob": services.direct_room(alice, bob),
        "bob-carol": services.direct_room(bob, carol),
        "scratch": services.create_room(alice, "Scratch"),
    }
    people = {"alice": alice, "bob": bob, "carol": carol}
    now = timezone.now()
    for author, room, text, days_ago in [*MESSAGES, REMOVED]:
        message = services.post_message(people[author], where[room].pk, text, uuid.uuid4()).message
        Message.objects.filter(pk=message.pk).update(created_at=now - dt.timedelta(days=days_ago))
    services.delete_message(bob, Message.objects.get(body=REMOVED[2]).pk)
    services.edit_message(bob, Message.objects.get(body="Draft of the memo 草稿").pk, "Final memo 定稿")
    Room.objects.filter(pk=attic.pk).update(archived_at=now, locked=True)  # as moderation archives it
    where.pop("scratch").delete()
    return people | where


def found(client: Client, query: str) -> list[str]:
    """The messages the search page lists for `query`, as their text reads there (the snippets)."""
    page = client.get("/search/", {"q": query_text(query)}).content.decode()
    snippets = re.findall(r'<a class="snippet"[^>]*>(.*?)</a>', page, re.S)
    return [html.unescape(re.sub(r"</?mark>", "", snippet)) for snippet in snippets]


def main() -> None:
    """Run in a fresh process on an empty SQLite database (migrated): the scene, then every query as alice;
    then FTS5's own check that its index holds exactly the messages' texts, after the edit and the deletion
    (it raises otherwise)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    people = build()
    client = Client()
    client.force_login(people["alice"])
    finds = {query: found(client, query) for query in FINDS}
    check = "INSERT INTO rooms_message_search (rooms_message_search, rank) VALUES ('integrity-check', 1)"
    try:
        with connection.cursor() as cursor:
            cursor.execute(check)
        index = "in step"
    except DatabaseError as error:
        index = str(error)
    print(json.dumps({"finds": finds, "index": index}))
