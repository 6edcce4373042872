"""Channel-layer addressing: one group per room (open or direct), one per person, one per login session; the
close codes sockets are sent away with; the kinds of event a hub handles.

Groups are joined by each worker's hub (hub.py), not by sockets: a group send reaches every process with a
follower once, and the hub hands the frame to its local sockets. Every socket of a person follows the groups
of all their rooms, so a message reaches their room page and their sidebar badges elsewhere alike.
Everything pushed is a ready HTML frame, rendered once, or once per language in use (`Html`): each socket
gets its own language's copy.
"""

from __future__ import annotations

# A frame: the same for everyone, or one copy per language code (each socket takes its own language's).
type Html = str | dict[str, str]

# Close codes are 4xxx so the ws extension does not retry: signed out, and no longer allowed in.
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
# "Service restart": the page reconnects at once and is authorized afresh.
CLOSE_RECONNECT = 1012
# "Try again later": the client fell too far behind, or the channel layer is down; the page reconnects (with
# backoff) and catches up from the database.
CLOSE_TRY_LATER = 1013
# What a server that refuses to send those from an application (daphne) sends instead.
DAPHNE_CODES = {CLOSE_RECONNECT: 4012, CLOSE_TRY_LATER: 4013}

# What a hub does with an event: push a frame; make a person's sockets follow a room, or stop following it;
# close sockets.
FRAME, SUBSCRIBE, UNSUBSCRIBE, CLOSE = "hub.frame", "hub.subscribe", "hub.unsubscribe", "hub.close"


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def viewers_group(room_id: int) -> str:
    """Sockets of pages showing the room: what only matters on screen (typing, who is online) goes here."""
    return f"room.{room_id}.viewers"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    """Sockets opened with one login session: logging out closes them all."""
    return f"session.{session_key}"


def in_language(html: Html, language: str) -> str:
    """A socket's copy of a frame: its language's, or, for a language nobody rendered (a socket that
    arrived after the frame was rendered), the first there is."""
    if isinstance(html, str):
        return html
    return html.get(language) or next(iter(html.values()), "")


def frame_event(group: str, html: Html, skip_user: int | None = None) -> dict:
    """`skip_user` keeps a frame from its originator's own sockets (nobody sees themselves typing)."""
    return {"type": FRAME, "group": group, "html": html, "skip_user": skip_user}
