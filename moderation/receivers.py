"""Moderation listening to the chat: a moderator's removal from a page is logged like one from admin."""

from django.dispatch import receiver

from rooms.signals import removed_by_moderator

from .services import record_removal


@receiver(removed_by_moderator)
def log_removal_from_a_page(sender, actor, messages, **kwargs) -> None:
    record_removal(actor, messages)
