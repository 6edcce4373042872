"""Requests no page of Roomcast can answer, refused before any view sees them."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import BadRequest
from django.http import HttpRequest
from django.utils.decorators import sync_and_async_middleware


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
