"""allauth forms, tightened: a password reset goes only to an address the account verified or was made with.
And the account's settings: display name, picture, language, time zone and theme."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.models import EmailAddress
from django import forms
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from . import avatars
from .models import Profile


class ResetPasswordForm(AllauthResetPasswordForm):
    def clean_email(self) -> str:
        email = super().clean_email()
        # allauth would also reset an account through an address it only claims (one added from a stolen
        # session). A reset goes to an address its account verified, or to the address the account was made
        # with (its first, while still its main one: without verification at sign-up, nobody could reset
        # otherwise). Any other address is told that no account has it verified
        # (templates/account/email/unknown_account_message.txt), as an unknown address is.
        rows = EmailAddress.objects.filter(user__in=self.users).order_by("user_id", "pk")
        first: dict[int, EmailAddress] = {}
        allowed: set[int] = set()
        for row in rows:
            first.setdefault(row.user_id, row)
            if row.verified and row.email.lower() == email.lower():
                allowed.add(row.user_id)
        for user_id, row in first.items():
            if row.primary and row.email.lower() == email.lower():
                allowed.add(user_id)
        # An account made by an administrator has no address rows: its address is the one they entered.
        self.users = [
            u for u in self.users if u.pk in allowed or (u.pk not in first and u.email.lower() == email.lower())
        ]
        return email


class PreferencesForm(forms.ModelForm):
    """The account preferences page: blank means the browser decides (the language it asks for, the zone it
    reports)."""

    class Meta:
        model = Profile
        fields = ["language", "time_zone"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        blank = {"language": _("The browser's language"), "time_zone": _("Detect from the browser")}
        for name, label in blank.items():
            self.fields[name].choices = [("", label), *self.fields[name].choices[1:]]


class SettingsForm(PreferencesForm):
    """The settings page: the profile (display name, picture) and the preferences (language, time zone, theme).
    A new picture is checked and re-encoded while the form is cleaned (accounts.avatars), so a refused one is
    an error next to its field and everything else typed is shown again."""

    avatar = forms.FileField(
        label=_("Profile picture"),
        required=False,
        widget=forms.FileInput(attrs={"accept": avatars.ACCEPT}),
    )
    remove_avatar = forms.BooleanField(label=_("Remove the picture"), required=False)

    class Meta(PreferencesForm.Meta):
        fields = ["display_name", "language", "time_zone", "theme"]
        widgets = {"theme": forms.RadioSelect}

    field_order = ["avatar", "remove_avatar", "display_name", "language", "time_zone", "theme"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The limit written in the reader's own number format ("5.0 MB"), so set per form, not once.
        self.fields["avatar"].help_text = _("PNG, JPEG, WebP or GIF, up to %(limit)s. It is cut to a square.") % {
            "limit": filesizeformat(avatars.MAX_BYTES)
        }

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        return avatars.process(upload) if upload else None

    def save(self, commit: bool = True) -> Profile:
        profile = super().save(commit=False)
        previous = profile.avatar.name
        if self.cleaned_data["avatar"] is not None:
            profile.avatar = self.cleaned_data["avatar"]  # stored under a new random name when saved
        elif self.cleaned_data["remove_avatar"]:
            profile.avatar = None
        if commit:
            profile.save()
            if previous and previous != profile.avatar.name:  # replaced or removed: the old file goes
                storage = profile.avatar.storage
                transaction.on_commit(lambda: storage.delete(previous))
        return profile


class SetByThePageForm(forms.ModelForm):
    """One preference the page sends itself, never blank: the top bar's language menu, and the zone the
    browser reports (Intl.DateTimeFormat().resolvedOptions().timeZone), checked against zoneinfo's names as
    the preferences page's choice is."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = True


LanguageForm = forms.modelform_factory(Profile, form=SetByThePageForm, fields=["language"])
DetectedTimeZoneForm = forms.modelform_factory(Profile, form=SetByThePageForm, fields=["time_zone"])
