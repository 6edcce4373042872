"""How the chat writes a person's name where it names them in a sentence (who is typing, who is here). The
profiles that hold display names belong to the accounts app, which builds on this one: it supplies the real
rule when it loads (accounts/apps.py); until then, and without it, the username."""

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser


def _username(user: AbstractBaseUser) -> str:
    return user.get_username()


shown_name: Callable[[AbstractBaseUser], str] = _username
