"""Channel-layer addressing: one group per open room, one personal group per user.

Everything pushed to a browser is a ready HTML frame, rendered once and forwarded as-is by every consumer.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# Close code sent to a socket whose user may no longer connect; 4xxx so the ws extension does not retry.
CLOSE_FORBIDDEN = 4403


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def send_frames(frames: dict[str, str]) -> None:
    """Send each group its frame (a room gets one; a direct message's two people each get their own)."""
    layer = get_channel_layer()
    for group, html in frames.items():
        async_to_sync(layer.group_send)(group, {"type": "chat.frame", "html": html})


def close_user_sockets(user_id: int) -> None:
    async_to_sync(get_channel_layer().group_send)(user_group(user_id), {"type": "chat.close", "code": CLOSE_FORBIDDEN})
