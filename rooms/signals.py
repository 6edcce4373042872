"""What the chat tells whoever builds on it (moderation), without knowing who listens."""

from django.dispatch import Signal

# A moderator removed other people's messages from a page (rooms.services.delete_message), inside its
# transaction: `actor`, `messages` (those removed). Moderation logs it and resolves the reports about them.
removed_by_moderator = Signal()

# Someone changed what a room is (rooms.services.membership), inside its transaction: `actor`, `room`, `change`
# ("archive", "unarchive", "private", "open"), maybe `reason`. Moderation logs it.
room_changed = Signal()
