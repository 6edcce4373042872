"""Open sockets follow the account: deactivating it or logging out closes them at once."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from rooms import realtime


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def close_sockets_of_inactive_user(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        group = realtime.user_group(instance.pk)
        transaction.on_commit(lambda: realtime.close_sockets(group, realtime.CLOSE_FORBIDDEN))


@receiver(user_logged_out)
def close_sockets_of_the_session(sender, request, user, **kwargs) -> None:
    # Sent before the session is flushed, so its key still names the sockets opened with it.
    if request is not None and request.session.session_key:
        realtime.close_sockets(realtime.session_group(request.session.session_key), realtime.CLOSE_SIGNED_OUT)
