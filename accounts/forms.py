"""allauth forms, tightened: a password reset goes only to an address its account has verified."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.models import EmailAddress


class ResetPasswordForm(AllauthResetPasswordForm):
    def clean_email(self) -> str:
        email = super().clean_email()
        # allauth would also reset an account through an address it only claims (added from a stolen
        # session, or given at sign-up and never confirmed). Such an address is told that no account has it
        # verified (templates/account/email/unknown_account_message.txt), as any unknown address is.
        verified = set(
            EmailAddress.objects.filter(email__iexact=email, verified=True).values_list("user_id", flat=True)
        )
        self.users = [user for user in self.users if user.pk in verified]
        return email
