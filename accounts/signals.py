"""Open sockets follow the account: deactivating or deleting it, logging out (or ending a session from the
sessions page) or changing the password takes effect on them at once. And the account's address hears of a
new one added to it (allauth tells of removals, primary and password changes itself). A deleted account's
picture goes with it. Someone who signs up joins the default rooms."""

import logging

from allauth.account.adapter import get_adapter
from allauth.account.signals import email_added, user_signed_up
from allauth.mfa.signals import authenticator_added
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

import realtime
from rooms import services as chat

from .models import Profile

log = logging.getLogger(__name__)


def _close(group: str, code: int) -> None:
    # The account change is already made; a channel layer that is down must not turn it into an error page.
    try:
        realtime.close_sockets(group, code)
    except Exception:
        log.exception("could not close the sockets of %s", group)


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def note_password_before_save(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk and (update_fields is None or "password" in update_fields):
        instance._roomcast_old_password = (
            sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
        )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def close_sockets_after_account_change(sender, instance, created: bool, **kwargs) -> None:
    if created:
        return
    group = realtime.user_group(instance.pk)
    if not instance.is_active:
        transaction.on_commit(lambda: _close(group, realtime.CLOSE_FORBIDDEN))
    elif getattr(instance, "_roomcast_old_password", instance.password) != instance.password:
        # A new password (allauth's form, the admin, changepassword) signs out every other session. 1012 makes
        # every page reconnect: sessions still valid (the one that changed it) come straight back, the others
        # are now signed out and get 4401.
        transaction.on_commit(lambda: _close(group, realtime.CLOSE_RECONNECT))


@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def close_sockets_of_deleted_user(sender, instance, **kwargs) -> None:
    group = realtime.user_group(instance.pk)
    transaction.on_commit(lambda: _close(group, realtime.CLOSE_FORBIDDEN))


@receiver(post_delete, sender=Profile)
def delete_the_picture_of_a_deleted_profile(sender, instance: Profile, **kwargs) -> None:
    if name := instance.avatar.name:
        storage = instance.avatar.storage
        transaction.on_commit(lambda: storage.delete(name))


@receiver(user_logged_out)
def close_sockets_of_the_session(sender, request, user, **kwargs) -> None:
    # Sent before the session is flushed, so its key still names the sockets opened with it.
    if request is not None and request.session.session_key:
        _close(realtime.session_group(request.session.session_key), realtime.CLOSE_SIGNED_OUT)


@receiver(post_delete, sender=UserSession)
def close_sockets_of_an_ended_session(sender, instance, **kwargs) -> None:
    # allauth ends sessions without a logout signal: "sign out other sessions" on /accounts/sessions/, a ban.
    group = realtime.session_group(instance.session_key)
    transaction.on_commit(lambda: _close(group, realtime.CLOSE_SIGNED_OUT))


@receiver(email_added)
def tell_the_old_address_of_a_new_one(sender, request, user, email_address, **kwargs) -> None:
    # To the primary address (the new one is not primary yet): someone in the account with a stolen session
    # adding their own address is the first step of a takeover, and the owner should hear of it.
    get_adapter(request).send_notification_mail("account/email/email_added", user, {"added_email": email_address.email})


@receiver(authenticator_added)
def end_other_sessions_on_enrolment(sender, request, user, authenticator, **kwargs) -> None:
    """Turning on two-factor ends the account's other sessions (and closes their pages): one signed in before
    with the password alone, perhaps a stolen one, must not keep what now needs a code (admin, for staff)."""
    current = request.session.session_key if request is not None else None
    for session in UserSession.objects.purge_and_list(user):
        if session.session_key != current:
            session.end()


@receiver(user_signed_up)
def join_the_default_rooms(sender, request, user, **kwargs) -> None:
    chat.welcome(user)
