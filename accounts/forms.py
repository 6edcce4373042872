"""allauth forms, tightened: a password reset goes only to an address the account verified or was made with.
And the account's preferences: language and time zone."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.models import EmailAddress
from django import forms
from django.utils.translation import gettext_lazy as _

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
