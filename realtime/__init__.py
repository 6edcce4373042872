"""Real-time infrastructure, knowing nothing of chat: channel-layer groups and close codes, the per-worker hub
and its outboxes, the relay from synchronous code, presence, flood control, Redis clients and the socket's
authentication stack. The chat domain (rooms/) builds on it and registers what it renders (see `hooks`).
"""

from .groups import (
    CLOSE,
    CLOSE_FORBIDDEN,
    CLOSE_RECONNECT,
    CLOSE_SIGNED_OUT,
    CLOSE_TRY_LATER,
    DAPHNE_CODES,
    FRAME,
    SUBSCRIBE,
    UNSUBSCRIBE,
    Html,
    frame_event,
    in_language,
    room_group,
    session_group,
    user_group,
    viewers_group,
)
from .presence import languages_in_use
from .relay import close_sockets, publish, send_frames, subscribe, unsubscribe

__all__ = [
    "CLOSE",
    "CLOSE_FORBIDDEN",
    "CLOSE_RECONNECT",
    "CLOSE_SIGNED_OUT",
    "CLOSE_TRY_LATER",
    "DAPHNE_CODES",
    "FRAME",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "Html",
    "close_sockets",
    "frame_event",
    "in_language",
    "languages_in_use",
    "publish",
    "room_group",
    "send_frames",
    "session_group",
    "subscribe",
    "unsubscribe",
    "user_group",
    "viewers_group",
]
