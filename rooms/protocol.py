"""The socket's actions, in one registry: each entry says what its frame carries (payload), which flood-control
bucket it draws from, whether it needs the account checked afresh, and who handles it. The consumer
dispatches through it, and flood control's, the fuzz test's and the IDOR sweep's tests enumerate it, so a new
action is one entry. The chat registers its own (consumers.py); apps built on it add theirs at start
(moderation's "report")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# handler(consumer, payload) -> the reply frame for the sender ("" for none). The payload holds the fields
# the entry declares, checked and typed, plus "client_id" (a str, or None), which names the request.
Handler = Callable[[Any, dict], Awaitable[str]]


@dataclass(frozen=True)
class Action:
    handler: Handler
    # Field name -> type (str, or int: a non-negative 64-bit number, also sent as digits): checked before
    # anything else runs, so a handler never sees a missing or mistyped field.
    payload: dict[str, type] = field(default_factory=dict)
    # The realtime.limits bucket it draws from (None: only the socket's frame budget).
    bucket: str | None = None
    # Re-check the account before it, whatever was checked a moment ago: its permission must be current.
    fresh_auth: bool = False
    # Past its bucket: dropped without a word (a typing notice, a read mark: nothing to tell) ...
    quiet: bool = False
    # ... or, for a request the page holds and sends again by itself, answered "not yet, in N ms".
    retried: bool = False
    # Fields of the payload a frame may leave out (or send empty): the handler gets None for them.
    optional: frozenset[str] = frozenset()


ACTIONS: dict[str, Action] = {}


def register(name: str, action: Action) -> None:
    ACTIONS[name] = action
