"""The socket's actions, in one registry: the consumer dispatches through it, and the fuzz test and the IDOR
sweep enumerate it, so a new action is one entry. The chat registers its own (consumers.py); apps built on
it add theirs at start (moderation's "report")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

# action name -> handler(consumer, frame data) -> the reply frame for the sender ("" for none)
Handler = Callable[[Any, dict], Awaitable[str]]
ACTIONS: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    ACTIONS[name] = handler
