"""Requests Roomcast refuses before any view sees them: URLs no page can answer, clients the development key
must not serve, and staff without two-factor authentication on their way to admin when it is required."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import sync_and_async_middleware

LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1"})
DEV_KEY_REFUSAL = (
    "This development server uses the public development key and serves this machine only. "
    "Set SECRET_KEY to a long random value to serve other machines."
)


def _refuse_nul(request: HttpRequest) -> None:
    # PostgreSQL text cannot hold NUL, so a URL carrying one (/rooms/%00/, an admin search for "%00") would
    # reach the database and fail there as a 500. No link of ours has one.
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path or "%00" in query or "\x00" in query:
        raise BadRequest("A URL cannot contain a NUL character.")


@sync_and_async_middleware
def refuse_nul_in_urls(get_response):
    """A 400 for any URL with a NUL character in its path or query string."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest):
            _refuse_nul(request)
            return await get_response(request)

        return middleware

    def middleware(request: HttpRequest):
        _refuse_nul(request)
        return get_response(request)

    return middleware


def _refuse_remote_client(request: HttpRequest) -> HttpResponse | None:
    # With the public development key anyone could forge what it signs (email confirmation links, for one);
    # settings refuse a non-loopback ALLOWED_HOSTS with it, and this catches a server bound to 0.0.0.0 that a
    # remote client reaches with "Host: localhost".
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY and request.META.get("REMOTE_ADDR") not in LOOPBACK_ADDRESSES:
        return HttpResponseForbidden(DEV_KEY_REFUSAL, content_type="text/plain; charset=utf-8")
    return None


@sync_and_async_middleware
def refuse_remote_clients_with_the_development_key(get_response):
    """A 403 for a client on another machine while SECRET_KEY is the public development key."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest):
            return _refuse_remote_client(request) or await get_response(request)

        return middleware

    def middleware(request: HttpRequest):
        return _refuse_remote_client(request) or get_response(request)

    return middleware


def _bound_for_admin(request: HttpRequest) -> bool:
    return settings.MFA_REQUIRED_FOR_STAFF and request.path.startswith(reverse("admin:index"))


def _enrolment_needed(request: HttpRequest) -> HttpResponse | None:
    user = request.user
    if _bound_for_admin(request) and user.is_authenticated and user.is_staff and not is_mfa_enabled(user):
        messages.warning(request, "Set up two-factor authentication to use admin.")
        return redirect("mfa_activate_totp")
    return None


@sync_and_async_middleware
def require_two_factor_for_staff(get_response):
    """With MFA_REQUIRED_FOR_STAFF, staff without two-factor authentication are sent to enrol instead of admin."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest):
            # Only requests for admin need the database (the user, their authenticators).
            if _bound_for_admin(request) and (refusal := await sync_to_async(_enrolment_needed)(request)):
                return refusal
            return await get_response(request)

        return middleware

    def middleware(request: HttpRequest):
        return _enrolment_needed(request) or get_response(request)

    return middleware
