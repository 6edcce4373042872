"""allauth's hooks for Roomcast: a banned person's login attempt says why it is refused and until when, and
usernames are normalised and refused when they could pass for someone else's; a new person joins the default
rooms and starts in one."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from moderation import services as moderation
from rooms import services as chat

from . import usernames


class AccountAdapter(DefaultAccountAdapter):
    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        # With the right password, allauth hands back a user the backends refused (it does so to send inactive
        # accounts to their own page): if a ban refused it, the login form shows this message instead.
        user = super().authenticate(request, **credentials)
        if user is not None and (ban := moderation.active_ban(user)) is not None:
            raise ValidationError(moderation.suspension_text(ban), code="suspended")
        return user

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        # A new person starts in the default room (joined on sign-up: signals.py), not in an empty sidebar.
        room = chat.default_rooms().first()
        return room.get_absolute_url() if room else super().get_signup_redirect_url(request)

    def clean_username(self, username: str, shallow: bool = False) -> str:
        # Normalised first, so "admin" typed in fullwidth letters meets allauth's "taken" check as "admin".
        username = super().clean_username(usernames.normalize(username), shallow=shallow)
        if not shallow:
            usernames.check_lookalike(username)
        return username
