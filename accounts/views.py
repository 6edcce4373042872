"""The account security page: one place for the password, email addresses, sessions and two-factor."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "account/security.html", {"two_factor": is_mfa_enabled(request.user)})
