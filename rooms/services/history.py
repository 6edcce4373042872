"""Reading a room's history: pages of it, older and newer, and a permalink's surroundings."""

from __future__ import annotations

from ..models import Message, Room

PAGE_SIZE = 50


def history(room: Room, before_seq: int | None = None, limit: int = PAGE_SIZE) -> tuple[list[Message], bool]:
    """Up to `limit` visible messages before `before_seq` (or the newest), oldest first, and whether more exist."""
    query = room.messages.visible().for_display().order_by("-seq")
    if before_seq is not None:
        query = query.filter(seq__lt=before_seq)
    page = list(query[: limit + 1])
    return list(reversed(page[:limit])), len(page) > limit


def newer(room: Room, after_seq: int, limit: int = PAGE_SIZE) -> tuple[list[Message], bool]:
    """Up to `limit` visible messages after `after_seq`, oldest first, and whether more exist."""
    query = room.messages.visible().for_display().filter(seq__gt=after_seq).order_by("seq")
    page = list(query[: limit + 1])
    return page[:limit], len(page) > limit


def around(room: Room, seq: int, side: int = 25) -> tuple[list[Message], bool, bool]:
    """A permalink's view: messages on both sides of `seq`, and whether older and newer ones remain."""
    older, has_older = history(room, before_seq=seq, limit=side)
    rest, has_newer = newer(room, seq - 1, limit=side + 1)
    return older + rest, has_older, has_newer
