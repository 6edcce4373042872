"""Search: the messages a person can read that say what they look for, ranked by relevance with recency and
shown as highlighted snippets; and the people and rooms whose names say it.

Which messages: those in the rooms `access.readable` allows the person, not removed, and nothing else: every
operator of the query (rooms/search_query.py) only narrows that set. What matches: each word and phrase is
somewhere in the message's text (its Markdown source), in any case, anywhere in a word: "deplo" finds
"redeployment", "部署" finds "今天部署新版本".

How: the database finds the newest CANDIDATES matches through migration 0015's indexes (PostgreSQL: trigrams,
and CJK characters and pairs for one or two of them; SQLite: an FTS5 trigram table), `_text` being the only
SQL of its own; they are ranked here, the same way on both. A query that matches more than CANDIDATES
messages ranks the newest of them: past that many, recency is what tells them apart anyway.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext

from .. import access, naming
from ..models import Attachment, Membership, Message, Room
from ..search_query import Query, QueryError, is_cjk, parse

CANDIDATES = 200  # matches ranked per query (see above)
PAGE_SIZE = 20
NAMES_SHOWN = 5  # people, and rooms, above the messages
PARTIAL = 0.5  # a term found inside a word counts half of one found as a word
RECENCY_DAYS = 30  # a message this old counts half as much as one written now
SNIPPET = 200  # characters of a message shown around what it matched
BEFORE_MATCH = 60  # of which, at most, before the first match


@dataclass(frozen=True)
class Hit:
    """A message found: where it is (a room, or the other person of a direct conversation), and its snippet."""

    message: Message
    snippet: SafeString
    other: AbstractBaseUser | None = None


@dataclass(frozen=True)
class Results:
    query: Query
    page: Page  # of Hits
    total: int  # matches ranked (at most CANDIDATES)
    more: bool  # more than CANDIDATES matched
    people: list
    rooms: list[Room]
    notice: str = ""


def search(user: AbstractBaseUser, text: str, page: str | int | None = None) -> Results | None:
    """What `user` finds for `text` (None if it asks for nothing); a QueryError says what is wrong with it (a
    bad date, nobody of that name)."""
    query = parse(text)
    if not query:
        return None
    messages, notice = _messages(user, query)
    rows = list(messages.order_by("-pk").values_list("pk", "body", "created_at")[: CANDIDATES + 1])
    more = len(rows) > CANDIDATES
    ranked = rank(rows[:CANDIDATES], query.terms, timezone.now())
    shown = Paginator(ranked, PAGE_SIZE).get_page(page)
    bodies = {pk: body for pk, body, _ in rows}
    shown.object_list = _hits(user, query, [pk for pk, _ in shown.object_list], bodies)
    people, rooms = ([], []) if query.has_operators or not query.terms else _names(user, query.terms)
    return Results(query, shown, len(ranked), more, people, rooms, notice)


# ---- which messages ----------------------------------------------------------------------------------------


def _messages(user: AbstractBaseUser, query: Query) -> tuple[QuerySet[Message], str]:
    """The messages the person may read that match, and a notice when the query cannot find anything."""
    found = Message.objects.visible().filter(room__in=Room.objects.filter(access.readable(user)))
    if query.authors:
        found = found.filter(author__in=_people_called(query.authors))
    if query.rooms or query.people:  # in:#room and in:@person: any of them
        found = found.filter(room__in=_rooms_called(user, query.rooms) + _conversations_with(user, query.people))
    if "link" in query.has:
        found = found.filter(Q(body__icontains="http://") | Q(body__icontains="https://"))
    if query.after:
        found = found.filter(created_at__gte=_start_of(query.after + dt.timedelta(days=1)))
    if query.before:
        found = found.filter(created_at__lt=_start_of(query.before))
    if query.terms:
        found = found.filter(_text(query.terms))
    if "file" in query.has:
        found = found.filter(Exists(Attachment.objects.filter(message=OuterRef("pk"))))
    return found, ""


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight in the person's time zone (the active one): dates are the days they see."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _named(name: str, lookup: str = "iexact") -> Q:
    match = Q()
    for name_field in naming.name_fields:  # username, and the display name once accounts is loaded
        match |= Q(**{f"{name_field}__{lookup}": name})
    return match


def _people_called(names: tuple[str, ...]) -> list:
    """Everyone with one of these usernames or display names; deactivated people too, whose messages stay
    the record. A name that is nobody's is a QueryError: a typo, most likely."""
    people = []
    for name in names:
        found = list(get_user_model().objects.filter(_named(name)))
        if not found:
            raise QueryError(gettext("Nobody is called “%(name)s”.") % {"name": name})
        people += found
    return people


def _rooms_called(user: AbstractBaseUser, names: tuple[str, ...]) -> list[int]:
    """The rooms the person may read with one of these names (or addresses), as ids; one that matches none is
    a QueryError, the same whether no room has that name or only rooms they cannot read."""
    rooms = []
    for name in names:
        match = Q(name__iexact=name) | Q(slug=slugify(name, allow_unicode=True))
        found = list(Room.objects.filter(access.readable(user)).filter(match).values_list("pk", flat=True))
        if not found:
            raise QueryError(gettext("No room you can read is called #%(name)s.") % {"name": name})
        rooms += found
    return rooms


def _conversations_with(user: AbstractBaseUser, names: tuple[str, ...]) -> list[int]:
    """The person's conversations (direct, and group ones) with any of these people, as ids."""
    others = _people_called(names) if names else []
    mine = Membership.objects.filter(user=user, room__kind__in=Room.CONVERSATIONS).values("room")
    return list(Membership.objects.filter(user__in=others, room__in=mine).values_list("room_id", flat=True))


def _text(terms: tuple[str, ...]) -> Q:
    """Each term somewhere in the text, in any case: the only SQL of its own, one branch per database."""
    table = connection.ops.quote_name(Message._meta.db_table)
    condition = Q()
    if connection.vendor == "postgresql":
        for term in terms:
            if len(term) <= 2 and is_cjk(term):  # too short for trigrams: its own index (a CJK term is quote-free)
                condition &= _sql(f"{table}.cjk_grams @@ %s::tsquery", f"'{term}'")
            else:  # pg_trgm's index serves any term of three characters or more
                condition &= _sql(f"{table}.body ILIKE %s", f"%{connection.ops.prep_for_like_query(term)}%")
        return condition
    # SQLite's trigram table finds terms of three characters or more in one MATCH; shorter ones are read from
    # the messages themselves (LIKE: ASCII letters in any case).
    long = [term for term in terms if len(term) >= 3]
    if long:
        phrases = " AND ".join('"{}"'.format(term.replace('"', '""')) for term in long)
        index = "SELECT rowid FROM rooms_message_search WHERE rooms_message_search MATCH %s"
        condition &= _sql(f"{table}.id IN ({index})", phrases)
    for term in terms:
        if len(term) < 3:
            condition &= Q(body__icontains=term)
    return condition


def _sql(sql: str, param: str) -> Q:
    return Q(RawSQL(sql, [param], output_field=BooleanField()))


# ---- ranking and snippets -----------------------------------------------------------------------------------


def rank(rows: list[tuple[int, str, dt.datetime]], terms: tuple[str, ...], now: dt.datetime) -> list[tuple[int, float]]:
    """(id, score) best first: how much of the query the text has as whole words (a term inside a longer word
    counts PARTIAL), over how old it is (halved at RECENCY_DAYS); newer first among equals."""

    def score(body: str, created_at: dt.datetime) -> float:
        relevance = sum(1 if _as_a_word(term, body) else PARTIAL for term in terms) / len(terms) if terms else 1
        age = max((now - created_at).total_seconds(), 0) / 86400
        return relevance / (1 + age / RECENCY_DAYS)

    scored = [(pk, score(body, created_at)) for pk, body, created_at in rows]
    return sorted(scored, key=lambda row: (-row[1], -row[0]))


def _as_a_word(term: str, body: str) -> bool:
    """The term stands as a word (or words) of the text. Chinese and Japanese have no spaces to tell their words
    apart, so a CJK term found counts as a word."""
    if is_cjk(term):
        return True
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", body, re.IGNORECASE) is not None


def snippet(body: str, terms: tuple[str, ...]) -> SafeString:
    """The part of the text around its first match, on one line, escaped, with every match in <mark>."""
    text = " ".join(body.split())
    marks: list[list[int]] = []  # [start, end] of each match, overlapping ones merged
    for found in sorted(m.span() for term in terms for m in re.finditer(re.escape(term), text, re.IGNORECASE)):
        if marks and found[0] <= marks[-1][1]:
            marks[-1][1] = max(marks[-1][1], found[1])
        else:
            marks.append(list(found))
    start = max(marks[0][0] - BEFORE_MATCH, 0) if marks else 0
    if start and (space := text.find(" ", start, marks[0][0])) >= 0:  # from a word's start where there are spaces
        start = space + 1
    end = min(start + SNIPPET, len(text))
    parts, at = ["…" if start else ""], start
    for mark_start, mark_end in marks:
        mark_start, mark_end = max(mark_start, at), min(mark_end, end)
        if mark_start < mark_end:
            parts += [escape(text[at:mark_start]), "<mark>", escape(text[mark_start:mark_end]), "</mark>"]
            at = mark_end
    parts += [escape(text[at:end]), "…" if end < len(text) else ""]
    return mark_safe("".join(parts))  # every piece of the text escaped above


def _hits(user: AbstractBaseUser, query: Query, ids: list[int], bodies: dict[int, str]) -> list[Hit]:
    """The page's messages, in the page's order, with their authors, rooms, files and (in direct conversations)
    the other person, named and pictured: two queries, and one more when the page has direct conversations."""
    messages = (
        Message.objects.filter(pk__in=ids)
        .select_related("room", "author", *(f"author__{r}" for r in naming.load_with_user))
        .prefetch_related(Prefetch("attachments", to_attr="loaded_files"))  # named in the hit: files alone
    )
    by_id = {m.pk: m for m in messages}
    directs = [m.room_id for m in by_id.values() if m.room.is_direct]
    members = Membership.objects.filter(room_id__in=directs).exclude(user=user)
    others = {m.room_id: m.user for m in members.select_related("user", *(f"user__{r}" for r in naming.load_with_user))}
    return [
        Hit(by_id[pk], snippet(bodies[pk], query.terms), others.get(by_id[pk].room_id))
        for pk in ids
        if pk in by_id  # its room deleted since it was found
    ]


# ---- people and rooms --------------------------------------------------------------------------------------


def _names(user: AbstractBaseUser, terms: tuple[str, ...]) -> tuple[list, list[Room]]:
    """Active people (not the person) and rooms they may read whose names have every term."""
    people = get_user_model().objects.filter(is_active=True).exclude(pk=user.pk)
    rooms = Room.objects.filter(access.readable(user), kind__in=Room.ROOMS)  # conversations have no name
    for term in terms:
        people = people.filter(_named(term, "icontains"))
        rooms = rooms.filter(name__icontains=term)
    people = people.select_related(*naming.load_with_user).order_by("username")[:NAMES_SHOWN]
    return list(people), list(rooms.order_by("name", "pk")[:NAMES_SHOWN])
