"""Requests Roomcast refuses before any view sees them: URLs no page can answer, clients the development key
must not serve, and staff without two-factor authentication on their way to admin when it is required. And the
signed-in person's own language and time zone, applied to every page."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import sync_and_async_middleware
from django.utils.translation import gettext as _

from accounts.models import Profile

Check = Callable[[HttpRequest], HttpResponse | None]

LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1"})
# In English: it tells whoever runs the server what to set, before any language is chosen (it precedes
# LocaleMiddleware).
DEV_KEY_REFUSAL = (
    "This development server uses the public development key and serves this machine only. "
    "Set SECRET_KEY to a long random value to serve other machines."
)


def _before_views(check: Check, *, needs_thread: Callable[[HttpRequest], bool] = lambda request: False):
    """A middleware, sync and async, that runs `check` before the view: a response it returns answers instead.
    Under ASGI, a check that may touch the database (`needs_thread(request)`) runs in a thread."""

    @sync_and_async_middleware
    def middleware_factory(get_response):
        if iscoroutinefunction(get_response):

            async def middleware(request: HttpRequest):
                answer = await sync_to_async(check)(request) if needs_thread(request) else check(request)
                return answer or await get_response(request)

            return middleware

        def middleware(request: HttpRequest):
            return check(request) or get_response(request)

        return middleware

    return middleware_factory


def _refuse_nul(request: HttpRequest) -> None:
    # PostgreSQL text cannot hold NUL, so a URL carrying one (/rooms/%00/, an admin search for "%00") would
    # reach the database and fail there as a 500. No link of ours has one.
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path or "%00" in query or "\x00" in query:
        raise BadRequest("A URL cannot contain a NUL character.")


def _refuse_remote_client(request: HttpRequest) -> HttpResponse | None:
    # With the public development key anyone could forge what it signs (email confirmation links, for one);
    # settings refuse a non-loopback ALLOWED_HOSTS with it, and this catches a server bound to 0.0.0.0 that a
    # remote client reaches with "Host: localhost".
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY and request.META.get("REMOTE_ADDR") not in LOOPBACK_ADDRESSES:
        return HttpResponseForbidden(DEV_KEY_REFUSAL, content_type="text/plain; charset=utf-8")
    return None


def _bound_for_admin(request: HttpRequest) -> bool:
    return settings.MFA_REQUIRED_FOR_STAFF and request.path.startswith(reverse("admin:index"))


def _enrolment_needed(request: HttpRequest) -> HttpResponse | None:
    user = request.user
    if _bound_for_admin(request) and user.is_authenticated and user.is_staff and not is_mfa_enabled(user):
        messages.warning(request, _("Set up two-factor authentication to use admin."))
        return redirect("mfa_activate_totp")
    return None


def _apply_preferences(request: HttpRequest) -> None:
    # After LocaleMiddleware: a language saved on the account wins over the cookie and the browser's.
    profile = Profile.of(request.user)
    if profile and profile.language:
        translation.activate(profile.language)
        request.LANGUAGE_CODE = translation.get_language()
    if profile and profile.time_zone:
        timezone.activate(zoneinfo.ZoneInfo(profile.time_zone))
    else:
        timezone.deactivate()  # a thread serves many people: never keep the previous one's zone


# A 400 for any URL with a NUL character in its path or query string.
refuse_nul_in_urls = _before_views(_refuse_nul)
# A 403 for a client on another machine while SECRET_KEY is the public development key.
refuse_remote_clients_with_the_development_key = _before_views(_refuse_remote_client)
# A signed-in person's saved language and time zone, for the whole request (pages, forms, messages). In a
# thread, as Django's own LocaleMiddleware: request.user is then the sync view's, loaded once.
apply_account_preferences = _before_views(_apply_preferences, needs_thread=lambda request: True)
# With MFA_REQUIRED_FOR_STAFF, staff without two-factor authentication are sent to enrol instead of admin. Only
# requests for admin need the database (the user, their authenticators).
require_two_factor_for_staff = _before_views(_enrolment_needed, needs_thread=_bound_for_admin)
