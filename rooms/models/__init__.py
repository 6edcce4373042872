"""The chat's models, one file per family; imported from here (`from rooms.models import Room`)."""

from .link_preview import LinkPreview
from .membership import Membership
from .message import Message, MessageQuerySet
from .mute import Mute
from .room import Room, RoomQuerySet

__all__ = ["LinkPreview", "Membership", "Message", "MessageQuerySet", "Mute", "Room", "RoomQuerySet"]
