"""allauth forms, tightened: a password reset goes only to an address the account verified or was made with."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.models import EmailAddress


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
