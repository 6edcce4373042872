"""Deactivating an account (admin, shell or code) closes that person's open sockets at once."""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from rooms import realtime


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def close_sockets_of_inactive_user(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        transaction.on_commit(lambda: realtime.close_user_sockets(instance.pk))
