"""The account's own pages: security (password, email addresses, sessions, two-factor) and settings (display
name, picture, language, time zone, theme), with the top bar's language menu and the browser's time zone
report. And a person's card, what others see of them."""

from __future__ import annotations

import zoneinfo

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from .forms import DetectedTimeZoneForm, LanguageForm, SettingsForm
from .models import Profile


@login_required
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "account/security.html", {"two_factor": is_mfa_enabled(request.user)})


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    profile = Profile.for_user(request.user)
    form = SettingsForm(request.POST or None, request.FILES or None, instance=profile)
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
    context = {"form": form, "two_factor": is_mfa_enabled(request.user)}
    return render(request, "account/settings.html", context, status=400 if form.errors else 200)


@never_cache  # the local time on it is now's
@vary_on_headers("HX-Request")  # one URL, two answers: the card alone (htmx) or a page around it
@login_required
def person_card(request: HttpRequest, username: str) -> HttpResponse:
    """Someone's card: picture, name, @username, their local time and a way to message them. Clicking a name
    loads it with htmx; without JavaScript the same URL is a page of its own."""
    person = get_object_or_404(get_user_model().objects.select_related("profile"), username=username, is_active=True)
    profile = Profile.of(person)
    context = {
        "person": person,
        "zone": zoneinfo.ZoneInfo(profile.time_zone) if profile and profile.time_zone else None,
        "now": timezone.now(),
        "is_me": person.pk == request.user.pk,
    }
    return render(request, "accounts/card.html" if request.htmx else "accounts/person.html", context)


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
