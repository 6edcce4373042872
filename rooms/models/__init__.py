"""The chat's models, one file per family; imported from here (`from rooms.models import Room`)."""

from .attachment import Attachment
from .link_preview import LinkPreview
from .membership import Membership
from .mention import Mention
from .message import Message, MessageQuerySet
from .mute import Mute
from .notification import NotificationSettings, PushSubscription, RoomNotified
from .reaction import Reaction, ReactionGroup
from .room import Room, RoomQuerySet

__all__ = [
    "Attachment",
    "LinkPreview",
    "Membership",
    "Mention",
    "Message",
    "MessageQuerySet",
    "Mute",
    "NotificationSettings",
    "PushSubscription",
    "Reaction",
    "ReactionGroup",
    "Room",
    "RoomNotified",
    "RoomQuerySet",
]
