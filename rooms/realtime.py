"""Channel-layer addressing: one group per room (open or direct), one personal group per user.

Every socket of a person follows the groups of all their rooms, so a message reaches their room page and
their sidebar badges elsewhere alike. Everything pushed is a ready HTML frame, rendered once and forwarded
as-is by every consumer.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# Close codes are 4xxx so the ws extension does not retry: signed out, and no longer allowed in.
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
# "Service restart": the page reconnects at once and is authorized afresh.
CLOSE_RECONNECT = 1012


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


def frame_event(html: str, skip_user: int | None = None) -> dict:
    """`skip_user` keeps a frame from its originator's own sockets (nobody sees themselves typing)."""
    return {"type": "chat.frame", "html": html, "skip_user": skip_user}


def send_frames(frames: dict[str, str]) -> None:
    """Send each group its frame."""
    layer = get_channel_layer()
    for group, html in frames.items():
        async_to_sync(layer.group_send)(group, frame_event(html))


def subscribe(user_id: int, room_id: int, html: str) -> None:
    """A person joined a room: each of their open sockets starts following it and adds it to the sidebar."""
    async_to_sync(get_channel_layer().group_send)(
        user_group(user_id), {"type": "chat.subscribe", "room_id": room_id, "html": html}
    )


def close_sockets(group: str, code: int) -> None:
    async_to_sync(get_channel_layer().group_send)(group, {"type": "chat.close", "code": code})
