"""How the chat writes a person's name where it names them in a sentence (who is typing, who is here), and
finds them by it (@mentions). The
profiles that hold display names belong to the accounts app, which builds on this one: it supplies the real
rule when it loads (accounts/apps.py); until then, and without it, the username."""

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser


def _username(user: AbstractBaseUser) -> str:
    return user.get_username()


shown_name: Callable[[AbstractBaseUser], str] = _username


# Where a search for a person by name looks (@mention suggestions), and what to load with a user to name them
# without a query: accounts adds the display name and its profile.
name_fields: tuple[str, ...] = ("username",)
load_with_user: tuple[str, ...] = ()
