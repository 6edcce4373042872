"""Moderation listening to the chat: a moderator's removal from a page, and changes to what a room is (archived,
private), are logged like admin's actions."""

from django.dispatch import receiver

from rooms.signals import removed_by_moderator, room_changed

from .services import log_room_change, record_removal


@receiver(removed_by_moderator)
def log_removal_from_a_page(sender, actor, messages, **kwargs) -> None:
    record_removal(actor, messages)


@receiver(room_changed)
def log_room_change_from_a_page(sender, actor, room, change, reason="", **kwargs) -> None:
    """Archiving from a room's settings page, making a room private or open: logged like admin's actions."""
    log_room_change(actor, room, change, reason)
