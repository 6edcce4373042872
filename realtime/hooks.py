"""What the real-time layer shows people, supplied by the chat domain: the infrastructure decides when a page
hears of an outage or of who is online, the domain (rooms/apps.py registers its renderers at start) what it
looks like. Until then, nothing is shown."""

from __future__ import annotations

from collections.abc import Callable

from .groups import Html


def _nothing(*args) -> str:
    return ""


# The connection bar when the channel layer goes away (True) and comes back (False).
outage_frame: Callable[[bool], Html] = _nothing
# Who has a room open: (room id, their names) -> the frame its viewers get.
presence_frame: Callable[[int, list[str]], Html] = _nothing
# Whether people are online at all (any page open): {user id: online} -> their dots, wherever a page shows them.
dots_frame: Callable[[dict[int, bool]], Html] = _nothing
