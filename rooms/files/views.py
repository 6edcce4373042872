"""Uploading a file (one per request, multipart, CSRF-checked: the page shows each one's progress) and reading
one. Answers to the uploading page are JSON: the file's id for the send, or the sentence saying why not."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from realtime import limits

from .. import access, services
from ..errors import slow_down
from ..services.files import limit_bytes
from . import delivery

# Multipart wraps the file in a little more: a request past this cannot hold a file within the limit.
ENVELOPE = 64 * 1024


def _refused(text: str, status: int) -> JsonResponse:
    return JsonResponse({"error": text}, status=status)


@require_POST
@login_required
def upload(request: HttpRequest, room_id: int) -> HttpResponse:
    if access.readable_room(request.user, room_id) is None:
        return _refused(gettext("That conversation does not exist."), 404)
    limit = limit_bytes()
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + ENVELOPE:  # before the body is parsed
        return _refused(
            gettext("This file is too large: files up to %(limit)s can be shared.") % {"limit": filesizeformat(limit)},
            413,
        )
    try:
        # The same flood control as every write, before the body is parsed (and spooled to disk).
        async_to_sync(limits.check)(request.user.pk, "upload")
    except limits.SlowDown as error:
        return _refused(slow_down("upload", error.wait_ms), 429)
    file = request.FILES.get("file")
    if file is None:
        return _refused(gettext("Choose a file to share."), 400)
    try:
        attachment, notice = services.upload(request.user, room_id, file)
    except services.ChatError as error:
        return _refused(str(error), {"too_large": 413, "quota": 413, "type": 415}.get(error.code, 403))
    return JsonResponse(
        {"id": attachment.pk, "name": attachment.name, "size": filesizeformat(attachment.size), "notice": notice},
        status=201,
    )


@require_POST
@login_required
def discard(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """An upload taken back before its message was sent."""
    services.discard_upload(request.user, attachment_id)
    return HttpResponse(status=204)


@require_GET
@login_required
def file(request: HttpRequest, attachment_id: int, name: str) -> HttpResponse:
    """A file, to whoever may read its message (a 404 to anyone else: it does not exist for them). The name in
    the address is for people and their downloads; the id decides."""
    attachment = services.readable_file(request.user, attachment_id)
    # A picture is served only as the worker wrote it again (its clean copy: no EXIF, no GPS position).
    if attachment is None or (attachment.is_image and not attachment.thumbnail_key):
        raise Http404
    return delivery.response(attachment)


@require_GET
@login_required
def thumbnail(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = services.readable_file(request.user, attachment_id)
    if attachment is None or not attachment.thumbnail_key:
        raise Http404
    return delivery.response(attachment, thumbnail=True)
