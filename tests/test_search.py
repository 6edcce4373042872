"""Search (rooms/services/search.py; the page /search/, the header's box): what a person finds, on the suite's
database (PostgreSQL) and on SQLite (the same scene, tests/support/search_scene.py, in a fresh process);
nothing they may not read; how results rank, show their matches and page; people and rooms; the query
language and its mistakes, said in English and in Chinese."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rooms import services
from rooms.models import Membership, Message, Room
from rooms.search_query import MAX_TERMS, Query, QueryError, is_cjk, parse
from rooms.services.search import CANDIDATES, PAGE_SIZE, _text, rank

from .helpers import make_user
from .support import search_scene
from .support.servers import ROOT


@pytest.fixture
def scene(db) -> dict:
    return search_scene.build()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_alice(scene) -> Client:
    return signed_in(scene["alice"])


def search(client: Client, query: str, **headers):
    return client.get("/search/", {"q": query}, headers=headers)


# ---- what is found, on both databases ------------------------------------------------------------------------


@pytest.mark.parametrize("query", list(search_scene.FINDS))
def test_what_alice_finds(as_alice, query):
    assert search_scene.found(as_alice, query) == search_scene.FINDS[query]


def test_sqlite_finds_the_same_with_its_trigram_table_in_step(tmp_path):
    """The embedded setup (SQLite) in its own process: migrated from nothing (so FTS5 and its triggers come
    from the migration), the same scene, every query; its index matches the messages after an edit and a
    deletion (FTS5's integrity check, which raises otherwise)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    script = "from tests.support.search_scene import main; main()"
    ran = subprocess.run(
        [*manage, "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen["finds"] == search_scene.FINDS
    assert seen["index"] == "in step"


# ---- only what the person may read ---------------------------------------------------------------------------


def test_someone_elses_conversation_is_never_found(scene):
    as_carol = signed_in(scene["carol"])
    for query in ("vault", "deploy key", '"the deploy key"', "from:bob vault", "in:@alice", "in:@bob vault"):
        assert search_scene.found(as_carol, query) == [], query
    # Her own conversation with bob is hers to search; alice has none with carol.
    assert search_scene.found(as_carol, "in:@bob") == ["Carol, the deploy password is hunter2"]
    assert search_scene.found(signed_in(scene["alice"]), "in:@carol") == []


def room_of(kind: str, people: list) -> Room:
    """A room of `kind` with `people` as its members (the first made it), through the services."""
    first, *others = people
    if kind == Room.Kind.DIRECT:
        return services.direct_room(first, others[0])
    if kind == Room.Kind.GROUP:
        return services.group_room(first, [p.pk for p in others])
    room = services.create_room(first, "Treasury", private=True)
    for person in others:
        services.invite(first, room, person.username)
    return room


@pytest.mark.parametrize("kind", [Room.Kind.DIRECT, Room.Kind.GROUP, Room.Kind.PRIVATE])
def test_a_room_left_is_searched_no_more(scene, kind):
    dave, erin = make_user("dave"), make_user("erin")
    room = room_of(kind, [dave, scene["alice"], erin][: 2 if kind == Room.Kind.DIRECT else 3])
    services.post_message(dave, room.pk, "The treasure map is under the sink", uuid.uuid4())
    as_alice, as_carol = signed_in(scene["alice"]), signed_in(scene["carol"])
    assert search_scene.found(as_alice, "treasure") == ["The treasure map is under the sink"]
    assert search_scene.found(as_alice, "in:@dave treas") == ["The treasure map is under the sink"] or kind == "private"
    assert search_scene.found(as_carol, "treasure") == []  # never a member
    assert room.slug is None or f"/rooms/{room.slug}/" not in search(as_carol, "Treasury").content.decode()
    if kind == Room.Kind.PRIVATE:
        services.leave(scene["alice"], room)  # as a member would: she is out of it
    else:
        Membership.objects.filter(room=room, user=scene["alice"]).delete()  # (a conversation is not left)
    assert search_scene.found(as_alice, "treasure") == []


def test_a_room_one_cannot_read_is_not_named_either(scene):
    """in:#name for a room the person cannot read says the same as for one that does not exist."""
    unknown = search(signed_in(scene["carol"]), "in:#nowhere").content.decode()
    assert "No room you can read is called #nowhere." in unknown


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes (SQLite's are checked above)")
@pytest.mark.parametrize(
    ("term", "index"),
    [
        ("deplo", "rooms_message_body_trgm"),
        ("部署新版本", "rooms_message_body_trgm"),
        ("部署", "rooms_message_cjk_grams"),
        ("新", "rooms_message_cjk_grams"),
    ],
)
def test_terms_are_looked_up_in_an_index(scene, term, index):
    """Parts of words and CJK of three characters or more through the trigram index; one or two CJK characters,
    too short for trigrams, through the grams column (which its trigger fills)."""
    query = Message.objects.filter(_text((term,))).order_by().values("pk")
    with connection.cursor() as cursor:  # a handful of rows: reading them all would be cheaper, so not that
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        plan = query.explain()
    assert index in plan, plan
    assert query.exists()


def test_signed_out_people_are_sent_to_log_in_and_pages_are_not_cached(as_alice):
    response = Client().get("/search/", {"q": "deploy"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login/?next=")
    assert "no-store" in search(as_alice, "deploy").headers["Cache-Control"]


# ---- how results show ----------------------------------------------------------------------------------------


def test_matches_are_highlighted_in_the_texts_own_words_and_escaped(as_alice):
    page = search(as_alice, "script DEPLOY").content.decode()
    assert "<script>alert" not in page
    assert (
        "&lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)&lt;/<mark>script</mark>&gt; <mark>deploy</mark> test" in page
    )
    assert "Re<mark>deplo</mark>yment" in search(as_alice, "deplo").content.decode()
    assert "今天<mark>部署</mark>新版本" in search(as_alice, "部署").content.decode()


def test_a_long_message_shows_the_part_around_its_match(scene, as_alice):
    text = "Intro words. " * 30 + "The needle is here. " + "Outro words. " * 30
    services.post_message(scene["bob"], scene["general"].pk, text, uuid.uuid4())
    [snippet] = search_scene.found(as_alice, "needle")
    assert snippet.startswith("…") and snippet.endswith("…") and "The needle is here." in snippet
    assert len(snippet) < 250


def test_each_result_links_to_its_message_with_who_wrote_it_where(scene, as_alice):
    page = search(as_alice, "vault").content.decode()
    vault = Message.objects.get(body="The deploy key is in the vault")
    assert f'<a class="snippet" href="{reverse("rooms:permalink", args=[vault.pk])}" data-result>' in page
    assert "in your conversation with Robert" in page  # bob's display name
    assert "in #General" in search(as_alice, "Friday").content.decode()


def test_results_come_in_pages(scene, as_alice):
    now = timezone.now()
    for n in range(PAGE_SIZE + 5):
        message = services.post_message(scene["bob"], scene["general"].pk, f"Lantern number {n}", uuid.uuid4()).message
        Message.objects.filter(pk=message.pk).update(created_at=now - dt.timedelta(minutes=n))
    first = search(as_alice, "lantern").content.decode()
    assert search_scene.found(as_alice, "lantern") == [f"Lantern number {n}" for n in range(PAGE_SIZE)]
    assert "25 messages match." in first and "Page 1 of 2" in first and 'rel="next"' in first
    second = as_alice.get("/search/", {"q": "lantern", "page": 2})
    assert "Page 2 of 2" in second.content.decode() and 'rel="prev"' in second.content.decode()
    assert len(re.findall(r'<a class="snippet"', second.content.decode())) == 5


def test_a_query_matching_more_than_are_ranked_says_so(scene, as_alice):
    Message.objects.bulk_create(
        Message(room=scene["general"], author=scene["bob"], seq=10_000 + n, changed_seq=10_000 + n, body=f"echo {n}")
        for n in range(CANDIDATES + 1)
    )
    page = search(as_alice, "echo").content.decode()
    assert f"More than {CANDIDATES} messages match: here are the best of the newest {CANDIDATES}." in page
    assert f"echo {CANDIDATES}" in search_scene.found(as_alice, "echo")  # the newest come first


def test_a_page_of_results_costs_the_same_queries_however_many_match(scene, as_alice):
    def queries(query: str) -> int:
        with CaptureQueriesContext(connection) as done:
            search(as_alice, query)
        return len(done)

    search(as_alice, "Friday")  # a first request's own queries (the session's) out of the way
    one_each = [queries("Friday"), queries("vault")]  # a match in a room; one in a conversation
    for n in range(PAGE_SIZE + 5):
        services.post_message(scene["bob"], scene["general"].pk, f"Friday, lantern {n}", uuid.uuid4())
        services.post_message(scene["bob"], scene["alice-bob"].pk, f"The vault, lantern {n}", uuid.uuid4())
    assert [queries("Friday"), queries("vault")] == one_each


def test_relevance_then_recency():
    """Whole words before parts of words; but a word much older than a part of one written now comes after it;
    among equals, the newer first."""
    now = timezone.now()
    rows = [
        (1, "we deploy on Friday", now - dt.timedelta(days=2)),
        (2, "redeployed it", now),
        (3, "deploy, long ago", now - dt.timedelta(days=100)),
        (4, "deploy again", now - dt.timedelta(days=2)),
    ]
    assert [pk for pk, _ in rank(rows, ("deploy",), now)] == [4, 1, 2, 3]
    assert [pk for pk, _ in rank(rows, (), now)] == [2, 4, 1, 3]  # operators only: the newest first


# ---- people and rooms ----------------------------------------------------------------------------------------


def names_shown(client: Client, query: str) -> list[str]:
    page = search(client, query).content.decode()
    section = re.search(r'<ul class="search-names">(.*?)</ul>', page, re.S)
    return (
        [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in re.findall(r"<li>(.*?)</li>", section[1])]
        if section
        else []
    )


def test_people_and_rooms_by_name_above_the_messages(as_alice):
    assert names_shown(as_alice, "rob") == ["R Robert @bob"]  # by display name (after the avatar's initial)
    assert names_shown(as_alice, "gen") == ["# General"]
    assert names_shown(as_alice, "attic") == ["# Attic archived"]
    assert names_shown(as_alice, "ali") == []  # not herself
    assert names_shown(as_alice, "from:carol gen") == []  # operators are about messages


# ---- the query and its mistakes ------------------------------------------------------------------------------


def test_the_header_box_is_on_every_page_and_keeps_the_query(as_alice):
    home = as_alice.get("/").content.decode()
    assert 'action="/search/" role="search" aria-label="Messages, people and rooms"' in home
    assert '<input type="search" id="site-search" name="q" value=""' in home
    page = search(as_alice, 'from:bob "new version"').content.decode()
    assert 'name="q" value="from:bob &quot;new version&quot;"' in page


@pytest.mark.parametrize("query", [None, "", "   ", '""'])
def test_nothing_to_look_for_shows_how_to_search(as_alice, query):
    page = as_alice.get("/search/", {} if query is None else {"q": query}).content.decode()
    assert '<details class="search-help" open>' in page and "in:@alice" in page
    assert "messages match" not in page and 'class="snippet"' not in page


@pytest.mark.parametrize(
    ("query", "english", "chinese"),
    [
        (
            "giraffe before:2026-13-45",
            "“2026-13-45” is not a date: write it as year-month-day, e.g. 2026-12-01.",
            "“2026-13-45”不是日期",
        ),
        ("after:yesterday", "“yesterday” is not a date", "“yesterday”不是日期"),
        ("from:nobody", "Nobody is called “nobody”.", "没有人叫“nobody”。"),
        ("in:#nowhere", "No room you can read is called #nowhere.", "没有名为 #nowhere 且您能阅读的房间"),
        ("in:general", "in: takes a room or a person, e.g. in:#general or in:@alice.", "in: 后面"),
        ("from: deploy", "from: needs what to look for, e.g. from:alice.", "from: 后面"),
        ("has:pdf", "has: takes link or file, e.g. has:link.", "has: 后面"),
        (" ".join(["w"] * (MAX_TERMS + 1)), f"Search for at most {MAX_TERMS} words and phrases at once.", "最多"),
    ],
)
def test_a_mistake_is_said_in_the_persons_language_with_the_query_kept(as_alice, query, english, chinese):
    response = search(as_alice, query)
    assert response.status_code == 400
    page = response.content.decode()
    assert english in page and 'role="alert"' in page
    assert f'name="q" value="{query}"' in page.replace("&quot;", '"')
    assert chinese in search(as_alice, query, accept_language="zh-hans").content.decode()


def test_the_page_in_chinese(as_alice):
    page = search(as_alice, "部署", accept_language="zh-hans").content.decode()
    assert "<title>搜索：部署 · Roomcast</title>" in page
    assert "找到 2 条消息。" in page


def test_the_query_language():
    assert parse(
        'deploy "new  version" from:alice in:#general in:@bob has:link after:2026-11-01 before:2026-12-01'
    ) == (
        Query(
            words=("deploy",),
            phrases=("new version",),
            authors=("alice",),
            rooms=("general",),
            people=("bob",),
            has=frozenset({"link"}),
            before=dt.date(2026, 12, 1),
            after=dt.date(2026, 11, 1),
        )
    )
    assert parse('in:#"weekly plan" FROM:@bob "unclosed phrase') == Query(
        phrases=("unclosed phrase",), authors=("bob",), rooms=("weekly plan",)
    )
    # Only the operators are operators: links and "note:" are words.
    assert parse("https://example.com/a note: 10:30").words == ("https://example.com/a", "note:", "10:30")
    # Dates said twice narrow; names said twice widen.
    assert parse("before:2026-12-01 before:2026-11-01 after:2026-01-01 after:2026-02-01") == Query(
        before=dt.date(2026, 11, 1), after=dt.date(2026, 2, 1)
    )
    assert parse("from:alice from:bob").authors == ("alice", "bob")
    assert not parse("   ") and not parse('""')
    for mistake in ("before:2026-W48-1", "before:20261201", "in:", "in:#", "has:", "has:files"):
        with pytest.raises(QueryError):
            parse(mistake)
    assert is_cjk("部署") and is_cjk("デプロイ") and is_cjk("한국") and not is_cjk("部署a")
