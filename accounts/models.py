"""A person's own settings for how Roomcast looks to them. Made on first change: until then every setting is
blank, meaning "follow the browser" (language) or "not known yet" (time zone: the browser tells it)."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils.translation import gettext_lazy as _


def language_choices() -> list[tuple[str, str]]:
    # A callable, so migrations name it instead of freezing today's list of languages.
    return list(settings.LANGUAGES)


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name zoneinfo knows (the system's database and the tzdata package)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zones()]


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=language_choices,
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        choices=time_zone_choices,  # what the browser reports is checked against zoneinfo's names
        help_text=_("Times and dates are shown in this zone."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def of(cls, user: AbstractBaseUser | AnonymousUser) -> Profile | None:
        """The person's profile, if they have one. No query when the user was loaded with it, as every
        signed-in request's user is (accounts.backends)."""
        # The reverse one-to-one's "does not exist" is an AttributeError too.
        return getattr(user, "profile", None) if user.is_authenticated else None

    @classmethod
    def for_user(cls, user: AbstractBaseUser) -> Profile:
        """The person's profile, or a new one, saved by the first form that changes it."""
        return cls.of(user) or cls(user=user)
