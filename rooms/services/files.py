"""Files shared in rooms. Each is uploaded on its own (over HTTP, with its progress), checked and stored under a
random key; the message that carries them takes them in its own transaction (messages.post_message), so they
follow its access rule, numbered changes, catch-up and removal. Thumbnails are made by the task worker and
added to the message as a change of its own, as link cards are. Files of removed messages, and uploads never
sent, are purged later by a task of the worker."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import unicodedata
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Case, Q, Sum, Value, When
from django.tasks import task
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext

from .. import access, frames, pictures
from ..errors import ChatError
from ..files import kinds
from ..models import Attachment, Message, Room
from ..models.attachment import BOX
from . import store

log = logging.getLogger(__name__)

UNSENT_FOR = dt.timedelta(days=1)  # an upload nobody sent is purged after this
THUMBNAIL_SIDE = 2 * max(BOX)  # twice the inline box, for sharp screens


def storage() -> Storage:
    return storages["files"]


def limit_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


def clean_name(name: str) -> str:
    """The name to show and download the file as: its last path part, without control characters."""
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not name.strip("."):  # "..", which a browser would take as a step up in the file's address
        name = ""
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = stem[: 254 - len(extension)] + dot + extension if dot and len(extension) < 20 else name[:255]
    return name or "file"


def _new_key() -> str:
    # Random, never the person's name for it (which can say whose it is, or be crafted); no extension, so
    # nothing on the way guesses a type from it.
    return f"{secrets.token_hex(1)}/{secrets.token_urlsafe(24)}"


def upload(user: AbstractBaseUser, room_id: int, file: UploadedFile) -> tuple[Attachment, str]:
    """Check and store one file for a message the person is writing in the room; returns it and a notice for
    them ("" if none). ChatError says why not: too large, over quota, not what its name says, or not allowed
    to write here."""
    if (refusal := access.send_refusal(user, room_id)) is not None:
        raise refusal
    name = clean_name(file.name or "")
    if file.size > limit_bytes():
        raise ChatError(
            gettext("“%(name)s” is %(size)s: files up to %(limit)s can be shared.")
            % {"name": name, "size": filesizeformat(file.size), "limit": filesizeformat(limit_bytes())},
            code="too_large",
        )
    try:
        kind = kinds.inspect(file, name)
    except kinds.Refused as why:
        raise ChatError(str(why), code="type") from None
    file.seek(0)
    with transaction.atomic():
        # The row first, under the quota's lock: one of the person's uploads at a time counts against it, so
        # uploads sent together cannot all fit in the same space. The bytes follow; none, no row.
        _check_quota(user, file.size, name)
        attachment = Attachment.objects.create(
            room_id=room_id, uploader=user, key=_new_key(), name=name, size=file.size,
            content_type=kind.content_type, kind=kind.kind, width=kind.width, height=kind.height,
        )  # fmt: skip
        attachment.key = storage().save(attachment.key, file)
        attachment.save(update_fields=["key"])
    if attachment.is_image:  # its thumbnail and clean copy, usually ready before the message is sent
        transaction.on_commit(lambda: make_thumbnail.enqueue(attachment.pk), robust=True)
    transaction.on_commit(lambda: purge.using(run_after=timezone.now() + UNSENT_FOR).enqueue(), robust=True)
    return attachment, kind.notice


def _check_quota(user: AbstractBaseUser, size: int, name: str) -> None:
    if not settings.UPLOAD_QUOTA_MB:
        return
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # held until the upload's row is in
    quota = settings.UPLOAD_QUOTA_MB * 1024 * 1024
    used = Attachment.objects.filter(uploader=user).aggregate(used=Sum("size"))["used"] or 0
    if used + size > quota:
        raise ChatError(
            gettext("“%(name)s” does not fit: your files take %(used)s of your %(quota)s.")
            % {"name": name, "used": filesizeformat(used), "quota": filesizeformat(quota)},
            code="quota",
        )


def discard_upload(user: AbstractBaseUser, attachment_id: int) -> None:
    """An upload the person took back before sending it: gone at once (its bytes with it: forget_bytes)."""
    # One statement, its condition checked as it deletes: an upload sent meanwhile stays.
    Attachment.objects.filter(pk=attachment_id, uploader=user, message__isnull=True).delete()


def parse_file_ids(value: str | None) -> list[int]:
    """The files a send names ("12,13"), in the order shown; at most Attachment.MAX_PER_MESSAGE."""
    parts = [part.strip() for part in (value or "").split(",") if part.strip()]
    if len(parts) > Attachment.MAX_PER_MESSAGE:
        raise ChatError(gettext("A message can carry up to %(limit)s files.") % {"limit": Attachment.MAX_PER_MESSAGE})
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in parts):
        raise ChatError(gettext("This message could not be sent (bad file list); reload the page."))
    return list(dict.fromkeys(int(part) for part in parts))


def attach(user: AbstractBaseUser, message: Message, ids: list[int]) -> list[Attachment]:
    """Give the person's unsent uploads in the message's room to the message, inside its transaction. All or
    nothing: one that is gone (taken back, purged, sent already) refuses the message."""
    unsent = Attachment.objects.filter(pk__in=ids, uploader=user, room_id=message.room_id, message__isnull=True)
    in_order = Case(*(When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)))
    if unsent.update(message=message, position=in_order) != len(ids):
        raise ChatError(gettext("A file of this message is no longer there: attach it again."), code="files")
    return list(Attachment.objects.filter(pk__in=ids))  # ordered by position


def readable_file(user: AbstractBaseUser, attachment_id: int) -> Attachment | None:
    """A file the person may have: its message is not removed and they may read its room; or it is their own
    upload, not sent yet."""
    sent = Q(message__deleted_at__isnull=True, message__room__in=Room.objects.filter(access.readable(user)))
    return Attachment.objects.filter(sent | Q(message__isnull=True, uploader=user), pk=attachment_id).first()


@task()
def make_thumbnail(attachment_id: int) -> None:
    """The worker's part: the picture's thumbnail (upright, without its metadata), and, if its message is sent
    already, the message again as a change of its own. A picture that cannot be decoded after all becomes a
    download, told the same way."""
    attachment = Attachment.objects.filter(pk=attachment_id, kind=Attachment.Kind.IMAGE, thumbnail_key="").first()
    if attachment is None:
        return
    made: list[str] = []  # keys written here, to delete if the file went meanwhile
    try:
        # Read once (from object storage, a download) and decoded once: the thumbnail comes from the same pixels.
        with storage().open(attachment.key) as source, pictures.opened(source, kinds.MAX_PIXELS) as image:
            clean = pictures.clean_copy(image)
            thumbnail, width, height = pictures.small_webp(image, THUMBNAIL_SIDE, quality=82)
        made.append(storage().save(_new_key(), ContentFile(thumbnail)))
        if clean is not None:
            made.append(storage().save(_new_key(), ContentFile(clean)))
    except pictures.NotAPicture:
        log.info("file %s: not a picture after all, shared as a download", attachment_id)
    except OSError:  # taken back or purged while it was read
        return
    with transaction.atomic():
        # The file's row first: once it is held, nobody sends it (messages.post_message updates it), so whether
        # its message exists is settled, and a send waiting behind this then shows the thumbnail itself.
        row = Attachment.objects.select_for_update().filter(pk=attachment_id).first()
        if row is None:
            for key in made:
                storage().delete(key)
            return
        if made:
            row.thumbnail_key, row.width, row.height = made[0], width, height
            if len(made) == 2:  # the original goes: only its clean copy is ever served
                old, row.key = row.key, made[1]
                row.size = storage().size(row.key)
                transaction.on_commit(lambda: storage().delete(old))
        else:
            row.kind = Attachment.Kind.FILE
        row.save(update_fields=["key", "size", "thumbnail_key", "width", "height", "kind"])
        if row.message_id is not None:
            _changed(row.message_id)


def _changed(message_id: int) -> None:
    """A sent message's file changed: the message takes the room's next change number and goes to its pages on
    commit (unless it was removed)."""
    # Loaded as the page shows it after the file's row was written: its files as they are now.
    messages = Message.objects.for_display().select_for_update(of=("self",))
    message = messages.filter(pk=message_id, deleted_at__isnull=True).first()
    if message is None:
        return
    message.changed_seq, _ = store.next_change(message.room_id)
    message.save(update_fields=["changed_seq"])
    transaction.on_commit(lambda: frames.broadcast([message]), robust=True)


def schedule_purge(messages: list[Message]) -> None:
    """Removed messages' files stay, hidden, for the retention period (as the messages' rows stay for the
    record: an operator may still need them), then go."""
    if messages and Attachment.objects.filter(message__in=[m.pk for m in messages]).exists():
        later = timezone.now() + dt.timedelta(days=settings.FILE_RETENTION_DAYS, minutes=1)
        transaction.on_commit(lambda: purge.using(run_after=later).enqueue(), robust=True)


@task()
def purge() -> int:
    """Delete, bytes and rows, every file due: those of messages removed more than FILE_RETENTION_DAYS ago, and
    uploads never sent within UNSENT_FOR. Idempotent: each removal queues one, and any one does all that is due.
    Returns how many went."""
    now = timezone.now()
    removed_before = now - dt.timedelta(days=settings.FILE_RETENTION_DAYS)
    due = Attachment.objects.filter(
        Q(message__deleted_at__lt=removed_before) | Q(message__isnull=True, created_at__lt=now - UNSENT_FOR)
    )
    # One statement, its condition checked as it deletes: an upload sent since it was found stays.
    count, _ = due.delete()
    return count


def forget_bytes(sender: type, instance: Attachment, **kwargs) -> None:
    """A file's row is gone (purged, taken back, its room or uploader deleted): its bytes go once that commits."""
    keys = [key for key in (instance.key, instance.thumbnail_key) if key]
    transaction.on_commit(lambda: [storage().delete(key) for key in keys], robust=True)
