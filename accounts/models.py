"""A person's profile (how others see them: a display name and a picture) and their own settings for how
Roomcast looks to them. Made on first change: until then every setting is blank, meaning "the username",
"initials", "follow the browser" (language), "not known yet" (time zone: the browser tells it) or "follow the
system" (theme)."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import avatars


def language_choices() -> list[tuple[str, str]]:
    # A callable, so migrations name it instead of freezing today's list of languages.
    return list(settings.LANGUAGES)


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name zoneinfo knows (the system's database and the tzdata package)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zones()]


# Characters that change how the text around a name reads: line breaks and other controls, and the
# bidirectional overrides and isolates, which can show "evil" as "live" or reverse the words after it.
_HIDDEN = frozenset(
    chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def validate_display_name(value: str) -> None:
    if any(char in _HIDDEN for char in value):
        raise ValidationError(
            _("A display name cannot contain line breaks or invisible control characters."), code="hidden_characters"
        )


class Theme(models.TextChoices):
    SYSTEM = "", _("Follow the system")
    LIGHT = "light", _("Light")
    DARK = "dark", _("Dark")


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    display_name = models.CharField(
        _("display name"),
        max_length=50,
        blank=True,
        validators=[validate_display_name],
        help_text=_("Shown instead of your username where people are named. Your username stays on your card."),
    )
    avatar = models.ImageField(_("profile picture"), upload_to=avatars.upload_to, blank=True)
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
    theme = models.CharField(_("theme"), max_length=8, blank=True, choices=Theme)

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
