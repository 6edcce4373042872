"""The account's own pages: security (password, email addresses, sessions, two-factor) and preferences
(language, time zone), with the top bar's language menu and the browser's time zone report."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_POST

from .forms import DetectedTimeZoneForm, LanguageForm, PreferencesForm
from .models import Profile


@login_required
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "account/security.html", {"two_factor": is_mfa_enabled(request.user)})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    profile = Profile.for_user(request.user)
    form = PreferencesForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        # The same cookie the language menu sets, so this browser's signed-out pages follow too; and back to
        # this page (the form's "next"). The browser's language: no cookie, so Accept-Language decides again.
        response = i18n.set_language(request)
        if not form.cleaned_data["language"]:
            response.delete_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
            request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None)
        # Said in the language of the page it shows on.
        with translation.override(form.cleaned_data["language"] or translation.get_language_from_request(request)):
            messages.success(request, _("Your preferences are saved."))
        return response
    return render(request, "account/preferences.html", {"form": form}, status=400 if form.errors else 200)


def set_language(request: HttpRequest) -> HttpResponse:
    """The top bar's language menu: Django's set_language (the language cookie, for signed-out pages, and the
    way back to the page), and for a signed-in person the account's language, which follows them elsewhere."""
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        form = LanguageForm(request.POST, instance=Profile.for_user(request.user))
        if form.is_valid():
            form.save()
    return response


@login_required
@require_POST
def detected_time_zone(request: HttpRequest) -> HttpResponse:
    """The zone the browser reports (static/js/timezone.js), kept only while the account has none: a zone
    chosen on the preferences page, or reported before, stays."""
    profile = Profile.for_user(request.user)
    if profile.time_zone:
        return HttpResponse(status=204)
    form = DetectedTimeZoneForm(request.POST, instance=profile)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    form.save()
    return HttpResponse(status=204)
