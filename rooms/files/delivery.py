"""Handing over a file the access check allowed (rooms.files.views): streamed by Django (the embedded setup),
sent by the proxy (X-Accel-Redirect for nginx, X-Sendfile), or, from object storage, a redirect to a signed
address that works for a minute. Whichever way, the browser is told the type Roomcast sniffed, to show it only
if it is a known-safe picture, video or sound (kinds.INLINE), and to run nothing in it."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from ..models import Attachment
from ..services.files import storage
from . import kinds

# The page shows files; nothing inside one may run, or load anything, even opened on its own.
SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"


def response(attachment: Attachment, *, thumbnail: bool = False) -> HttpResponse:
    if thumbnail:
        key, name, (content_type, inline) = attachment.thumbnail_key, "thumbnail.webp", ("image/webp", True)
    else:
        key, name, (content_type, inline) = attachment.key, attachment.name, kinds.served_type(attachment)
    disposition = content_disposition_header(as_attachment=not inline, filename=name)
    files = storage()
    if not isinstance(files, FileSystemStorage):
        signed = files.url(
            key, parameters={"ResponseContentType": content_type, "ResponseContentDisposition": disposition}
        )
        answer: HttpResponse = HttpResponseRedirect(signed)
        answer["Cache-Control"] = "private, no-store"  # the address expires; a cached redirect would not
        return answer
    if settings.FILES_SERVED_BY == "x-accel":
        answer = HttpResponse(content_type=content_type)
        answer["X-Accel-Redirect"] = quote(settings.FILES_ACCEL_PREFIX + key)
    elif settings.FILES_SERVED_BY == "x-sendfile":
        answer = HttpResponse(content_type=content_type)
        answer["X-Sendfile"] = files.path(key)
    else:
        answer = FileResponse(files.open(key), content_type=content_type)
    answer["Content-Disposition"] = disposition
    answer["Content-Security-Policy"] = SANDBOX
    answer["X-Content-Type-Options"] = "nosniff"
    answer["Cross-Origin-Resource-Policy"] = "same-origin"
    # Only the reader's browser may keep it, and not for long: access can end (a removal, a removed message).
    answer["Cache-Control"] = "private, max-age=300"
    return answer
