"""The only hand-written SQL: taking a room's next change number, and storing a message in one statement on
PostgreSQL, with its twin in ORM steps for other databases (SQLite, the embedded setup). tests/test_access.py
runs both against the same cases."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from contextlib import nullcontext
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models.functions import Greatest

from .. import access
from ..models import Membership, Message, Room

# (message id, seq, room kind, whether the author was a member)
Stored = tuple[int, int, str, bool]


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to store: what was written, as rendered, its client id, when, and what it answers."""

    body: str
    html: str
    client_id: uuid.UUID
    now: dt.datetime
    reply_to: int | None = None


def next_change(room_id: int, count: int = 1, **also) -> tuple[int, str]:
    """Take the room's next change number (or the next `count`: returns the last); returns it with the room's
    kind. Call inside a transaction: the UPDATE holds the room row until commit, so numbers follow commit
    order. `also` sets more room fields. One statement (UPDATE ... RETURNING) rather than an update and a read."""
    qn = connection.ops.quote_name
    assignments, values = [f"{qn('last_seq')} = {qn('last_seq')} + %s"], [count]
    for name, value in also.items():
        field = Room._meta.get_field(name)
        assignments.append(f"{qn(field.column)} = %s")
        values.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Room._meta.db_table)} SET {', '.join(assignments)} WHERE id = %s RETURNING last_seq, kind",
            [*values, room_id],
        )
        return cursor.fetchone()


def store_message(user: AbstractBaseUser, room_id: int, draft: Draft, moderator: bool = False) -> Stored | None:
    """Save a message under the room's next change number and move the author's read mark to it, or return
    None if they may not write there (access.py's rule; the lock waived when the caller found them a
    `moderator`).

    The room row is locked from taking the number until commit, so every message of a busy room passes
    through that lock. On PostgreSQL it is all one statement, so the lock is held only while the server runs
    it; as separate statements the lock also waited on this process between them (for the GIL, behind the
    fan-out), and that wait capped a room at about 250 messages a second."""
    if connection.vendor == "postgresql":
        return _store_in_one_statement(user, room_id, draft, moderator)
    return _store_in_steps(user, room_id, draft, moderator)


def _store_in_steps(user: AbstractBaseUser, room_id: int, draft: Draft, moderator: bool) -> Stored | None:
    # The rule asked first, the one the statement spells out; it knows moderators itself (`moderator` unused).
    if access.send_refusal(user, room_id) is not None:
        return None
    with transaction.atomic():
        seq, kind = next_change(room_id, last_message_at=draft.now)
        message = Message.objects.create(
            room_id=room_id, author=user, seq=seq, changed_seq=seq, body=draft.body, html=draft.html,
            client_id=draft.client_id, created_at=draft.now, reply_to_id=draft.reply_to,
        )  # fmt: skip
        mine = Membership.objects.filter(room_id=room_id, user=user)
        was_member = mine.update(last_read_seq=Greatest("last_read_seq", seq)) > 0
        return message.pk, seq, kind, was_member


@functools.cache
def _one_statement_sql() -> str:
    """Built once: it runs for every message."""
    rooms, messages, members = (connection.ops.quote_name(m._meta.db_table) for m in (Room, Message, Membership))
    return f"""
        WITH room AS (
            UPDATE {rooms} SET last_seq = last_seq + 1, last_message_at = %(now)s
            WHERE id = %(room)s AND {access.write_sql()}
            RETURNING id, last_seq, kind
        ), message AS (
            INSERT INTO {messages}
                (room_id, author_id, seq, changed_seq, body, html, client_id, created_at, reply_to_id)
            SELECT id, %(user)s, last_seq, last_seq, %(body)s, %(html)s, %(client)s, %(now)s, %(reply)s FROM room
            RETURNING id, seq
        ), reader AS (
            UPDATE {members} SET last_read_seq = GREATEST(last_read_seq, message.seq) FROM message
            WHERE room_id = %(room)s AND user_id = %(user)s
            RETURNING 1
        )
        SELECT message.id, message.seq, room.kind, EXISTS (SELECT 1 FROM reader) FROM message, room"""


def _store_in_one_statement(user: AbstractBaseUser, room_id: int, draft: Draft, moderator: bool) -> Stored | None:
    params = {
        "now": draft.now, "room": room_id, "open": Room.Kind.OPEN, "user": user.pk, "body": draft.body,
        "html": draft.html, "client": draft.client_id, "moderator": moderator, "reply": draft.reply_to,
    }  # fmt: skip
    # Autocommit makes the statement its own transaction. Inside a caller's transaction, a savepoint keeps a
    # replayed client id (an IntegrityError) from breaking it.
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(_one_statement_sql(), params)
        return cursor.fetchone()
