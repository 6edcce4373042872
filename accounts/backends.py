"""Authentication backends that refuse banned people (moderation.models.Ban) as they refuse inactive accounts.

Both of Django's entry points say no while a ban lasts: `authenticate` (every login form) and `get_user`
(every request and socket that presents a session), so even a session that was not ended on ban, or a socket
reconnecting with an old cookie, is refused. allauth turns a refused login into its own message
(accounts.adapter).
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from asgiref.sync import sync_to_async
from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef

from moderation.models import Ban


class BanCheck:
    def user_can_authenticate(self, user: AbstractBaseUser) -> bool:
        return super().user_can_authenticate(user) and not Ban.objects.active().filter(user=user).exists()

    def get_user(self, user_id) -> AbstractBaseUser | None:
        # One query, as Django's own get_user: every page and socket frame re-checks the account through it.
        # The profile comes along (a join), so applying the person's language and time zone costs no query.
        User = get_user_model()
        banned = Exists(Ban.objects.active().filter(user=OuterRef("pk")))
        user = (
            User._default_manager.annotate(roomcast_banned=banned).select_related("profile").filter(pk=user_id).first()
        )
        if user is None or user.roomcast_banned or not getattr(user, "is_active", True):
            return None
        return user

    # Django's async twins call user_can_authenticate without leaving the event loop; the ban check queries.
    async def aget_user(self, user_id) -> AbstractBaseUser | None:
        return await sync_to_async(self.get_user)(user_id)

    async def aauthenticate(self, request, **credentials) -> AbstractBaseUser | None:
        return await sync_to_async(self.authenticate)(request, **credentials)


class ModelBackend(BanCheck, backends.ModelBackend):
    """Django's username and password backend (the admin's login form)."""


class AuthenticationBackend(BanCheck, AllauthBackend):
    """allauth's backend (log in by username or email)."""
