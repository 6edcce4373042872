"""Files: uploaded over HTTP, sent with a message through the send path (its numbered change and catch-up), the
thumbnail made by the task worker and arriving live, served only to readers with the headers that keep a
crafted file harmless, refusals said clearly in the person's language, and removed messages' files gone."""

from __future__ import annotations

import io
import json
import re
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from rooms import services
from rooms.models import Attachment, Message

from .helpers import drain, frames_until, make_user, open_socket, run_queued_tasks
from .support.moderation import live, signed_in

SCRIPTED_SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def files_root(settings, tmp_path) -> Path:
    """Every test's files in a folder of its own."""
    root = tmp_path / "files"
    settings.STORAGES = {
        **django_settings.STORAGES,
        "files": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def picture(width: int = 400, height: int = 200, fmt: str = "PNG", orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), "red")
    out = io.BytesIO()
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation  # Orientation
        exif[0x010F] = "PhoneMaker"  # Make: metadata that must not be served
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small PNG whose header says it is `width` x `height`: decoding it would take gigabytes."""
    data = picture(1, 1)
    header = struct.pack(">II", width, height) + data[24:29]
    chunk = b"IHDR" + header
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def upload(client: Client, room, name: str, data: bytes, **extra):
    return client.post(reverse("rooms:upload", args=[room.pk]), {"file": SimpleUploadedFile(name, data)}, **extra)


def send_with_files(user, room, ids: list[int], body: str = "") -> Message:
    return services.post_message(user, room.pk, body, uuid.uuid4(), files=ids).message


def shared(user, room, name: str = "plan.pdf", data: bytes = b"%PDF-1.4\n%test\n", body: str = "") -> Attachment:
    """A file uploaded and sent in a message, as the page does it."""
    answer = upload(signed_in(user), room, name, data)
    assert answer.status_code == 201, answer.content
    send_with_files(user, room, [answer.json()["id"]], body)
    return Attachment.objects.get(pk=answer.json()["id"])


def file_url(attachment: Attachment) -> str:
    return reverse("rooms:file", args=[attachment.pk, attachment.name])


# ---- sending, live, and catch-up -----------------------------------------------------------------------------


@live
async def test_a_picture_reaches_the_room_in_its_box_then_its_thumbnail_arrives_live(people, files_root):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    holiday = picture(400, 200, "JPEG", orientation=6)
    answer = await database_sync_to_async(lambda: upload(signed_in(alice), general, "holiday.jpg", holiday))()
    assert answer.status_code == 201 and answer.json()["notice"] == ""
    file_id = answer.json()["id"]
    bob_page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")
    alice_page, _ = await open_socket(alice, f"/ws/rooms/{general.pk}/")
    for page in (alice_page, bob_page):
        await drain(page)
    frame = {"body": "the view", "client_id": str(uuid.uuid4()), "files": str(file_id)}
    await alice_page.send_to(text_data=json.dumps(frame))
    first = (await frames_until(bob_page, "attachment-image"))[-1]
    # Upright (the phone's rotation tag applied): 200 x 400, its box reserved before any picture arrives.
    assert 'data-width="200" data-height="400"' in first
    assert 'class="thumbnail-pending" width="135" height="270"' in first
    assert 'class="thumbnail-preparing">holiday.jpg (preparing its preview)<' in first  # said over the box
    assert "the view" in first
    message = await database_sync_to_async(Message.objects.get)(attachments=file_id)
    await database_sync_to_async(run_queued_tasks)()  # the worker: the thumbnail
    later = (await frames_until(bob_page, f"/files/{file_id}/thumbnail/"))[-1]
    assert f'data-changed="{message.seq + 1}"' in later  # a change of its own: catch-up replays it
    assert 'width="135" height="270"' in later and "thumbnail-pending" not in later
    thumb = await database_sync_to_async(lambda: signed_in(bob).get(reverse("rooms:thumbnail", args=[file_id])))()
    assert thumb["Content-Type"] == "image/webp"
    image = Image.open(io.BytesIO(b"".join(thumb.streaming_content)))
    assert image.size == (200, 400) and not image.getexif()  # upright, and no EXIF left
    for page in (alice_page, bob_page):
        await page.disconnect()


def gps_photo(width: int = 300, height: int = 200) -> bytes:
    image, exif = Image.new("RGB", (width, height), "red"), Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # where it was taken
    exif[0x0112] = 6  # taken with the phone upright: stored sideways
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.django_db
def test_a_photo_is_served_only_as_rewritten_without_its_gps_position(people, files_root):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    photo = shared(alice, general, "me.jpg", gps_photo())
    assert signed_in(bob).get(file_url(photo)).status_code == 404  # not before the worker rewrote it
    run_queued_tasks()
    served = signed_in(bob).get(file_url(photo))
    assert served["Content-Type"] == "image/jpeg" and served["Content-Disposition"] == 'inline; filename="me.jpg"'
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.size == (200, 300) and not image.getexif()  # upright, and nothing but its pixels
    assert len(stored_files(files_root)) == 2  # the clean copy and the thumbnail: the original is gone


@pytest.mark.django_db
def test_a_file_whose_room_is_deleted_leaves_nothing_behind(people, files_root):
    alice, general = people["alice"], people["general"]
    shared(alice, general, "plan.pdf")
    upload(signed_in(alice), general, "draft.txt", b"not sent yet")
    assert len(stored_files(files_root)) == 2
    general.delete()
    assert stored_files(files_root) == []


@pytest.mark.django_db
def test_taking_back_or_purging_spares_an_upload_sent_meanwhile(people, files_root):
    alice, general = people["alice"], people["general"]
    file_id = upload(signed_in(alice), general, "late.pdf", b"%PDF-1.4\n").json()["id"]
    Attachment.objects.filter(pk=file_id).update(created_at=timezone.now() - services.files.UNSENT_FOR * 2)
    send_with_files(alice, general, [file_id])  # sent just before the purge and the remove button reach it
    services.discard_upload(alice, file_id)
    assert services.files.purge.call() == 0
    assert Attachment.objects.filter(pk=file_id).exists() and len(stored_files(files_root)) == 1
    # A thumbnail asked for a file that went meanwhile: the task ends quietly.
    picture_id = upload(signed_in(alice), general, "gone.png", picture()).json()["id"]
    services.discard_upload(alice, picture_id)
    services.files.make_thumbnail.call(picture_id)


@live
async def test_catch_up_after_a_drop_brings_a_file_sent_meanwhile(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    cursor = general.last_seq
    attachment = await database_sync_to_async(shared)(alice, general, "notes.txt", b"minutes\n", body="")
    page, _ = await open_socket(bob, f"/ws/rooms/{general.pk}/")  # back after the drop
    await drain(page)
    await page.send_to(text_data=json.dumps({"action": "catch_up", "after": cursor}))
    answer = (await frames_until(page, "data-upto"))[-1]
    assert answer.count("attachment-card") == 1 and "notes.txt" in answer and "text file" in answer
    assert file_url(attachment) in answer
    await page.disconnect()


@pytest.mark.django_db
def test_a_send_may_carry_only_the_persons_own_unsent_uploads_in_that_room(people):
    alice, bob, general, elsewhere = people["alice"], people["bob"], people["general"], people["elsewhere"]
    mine = upload(signed_in(alice), general, "a.txt", b"a").json()["id"]
    bobs = upload(signed_in(bob), general, "b.txt", b"b").json()["id"]
    for user, room, ids in ((alice, general, [bobs]), (alice, elsewhere, [mine]), (alice, general, [mine, 999999])):
        with pytest.raises(services.ChatError, match="no longer there"):
            send_with_files(user, room, ids, "hello")
    assert not Message.objects.filter(body="hello").exists()  # all or nothing
    message = send_with_files(alice, general, [mine])
    assert message.body == "" and [a.pk for a in message.attachments.all()] == [mine]  # files alone, no caption
    with pytest.raises(services.ChatError, match="no longer there"):
        send_with_files(alice, general, [mine])  # sent already
    first, second = (upload(signed_in(alice), general, f"{n}.txt", b"x").json()["id"] for n in ("first", "second"))
    shown = Message.objects.for_display().get(pk=send_with_files(alice, general, [second, first]).pk)
    assert [a.pk for a in shown.files] == [second, first]  # in the order the send named them


# ---- who may have it ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_private_rooms_file_is_a_404_to_anyone_outside_it(people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    hideout = services.create_room(alice, "Hideout", private=True)
    services.invite(alice, hideout, bob.username)
    attachment = shared(alice, hideout, "secret.png", picture())
    run_queued_tasks()
    urls = (file_url(attachment), reverse("rooms:thumbnail", args=[attachment.pk]))
    for url in urls:
        assert signed_in(bob).get(url).status_code == 200
        assert signed_in(carol).get(url).status_code == 404
        assert signed_in(people["mod"]).get(url).status_code == 404  # moderators read private rooms by reports
        assert Client().get(url).status_code == 302  # to the sign-in page
    assert upload(signed_in(carol), hideout, "x.txt", b"x").status_code == 404
    services.remove_member(alice, hideout, bob)
    assert signed_in(bob).get(urls[0]).status_code == 404


@pytest.mark.django_db
def test_an_upload_needs_the_csrf_token_and_a_room_the_person_may_write_in(people):
    alice, general = people["alice"], people["general"]
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(alice)
    assert upload(checked, general, "a.txt", b"a").status_code == 403
    assert not Attachment.objects.exists()
    services.set_archived(alice, general, True)
    refused = upload(signed_in(alice), general, "a.txt", b"a")
    assert refused.status_code == 403 and "archived" in refused.json()["error"]


@pytest.mark.django_db
def test_removing_a_message_hides_its_files_then_the_retention_task_purges_them(people, files_root, settings):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    by_author = shared(alice, general, "mine.pdf")
    by_mod = shared(bob, general, "theirs.pdf")
    assert signed_in(bob).get(file_url(by_author)).status_code == 200
    services.delete_message(alice, by_author.message_id)
    services.delete_message(people["mod"], by_mod.message_id)
    for attachment in (by_author, by_mod):
        for reader in (alice, bob):
            assert signed_in(reader).get(file_url(attachment)).status_code == 404
    run_queued_tasks()  # the purge queued for after the retention period waits for its time
    assert services.files.purge.call() == 0  # and run early, finds nothing due yet
    assert len(stored_files(files_root)) == 2
    settings.FILE_RETENTION_DAYS = 0
    services.files.purge.call()
    assert stored_files(files_root) == [] and not Attachment.objects.exists()


@pytest.mark.django_db
def test_an_upload_never_sent_is_purged_after_a_day_and_one_taken_back_at_once(people, files_root):
    alice, general = people["alice"], people["general"]
    kept, dropped = (upload(signed_in(alice), general, f"{n}.txt", b"x").json()["id"] for n in ("kept", "dropped"))
    assert signed_in(alice).post(reverse("rooms:discard_upload", args=[dropped])).status_code == 204
    assert not Attachment.objects.filter(pk=dropped).exists() and len(stored_files(files_root)) == 1
    services.files.purge.call()
    assert Attachment.objects.filter(pk=kept).exists()  # still being written about
    Attachment.objects.filter(pk=kept).update(
        created_at=Attachment.objects.get(pk=kept).created_at - services.files.UNSENT_FOR
    )
    services.files.purge.call()
    assert not Attachment.objects.exists() and stored_files(files_root) == []


# ---- what a file is, and how it is served -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_picture_is_shown_inline_and_anything_else_is_a_harmless_download(people):
    alice, bob, general = people["alice"], people["bob"], people["general"]
    png = shared(alice, general, "chart.png", picture())
    pdf = shared(alice, general, "report.pdf")
    run_queued_tasks()  # the picture's clean copy
    shown = signed_in(bob).get(file_url(png))
    assert shown["Content-Type"] == "image/png" and shown["Content-Disposition"].startswith("inline")
    fetched = signed_in(bob).get(file_url(pdf))
    assert fetched["Content-Type"] == "application/octet-stream"
    assert fetched["Content-Disposition"] == 'attachment; filename="report.pdf"'
    for answer in (shown, fetched):
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert (
            "sandbox" in answer["Content-Security-Policy"] and "default-src 'none'" in answer["Content-Security-Policy"]
        )
        assert answer["Cache-Control"].startswith("private")
    assert pdf.key != "report.pdf" and "report" not in pdf.key  # stored under a random name


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16


@pytest.mark.django_db
def test_videos_and_sounds_play_in_the_message(people):
    alice, general = people["alice"], people["general"]
    clip, voice = (shared(alice, general, name, data) for name, data in (("standup.mp4", MP4), ("note.mp3", MP3)))
    assert (clip.kind, clip.content_type, voice.kind, voice.content_type) == (
        "video",
        "video/mp4",
        "audio",
        "audio/mpeg",
    )
    page = signed_in(alice).get(general.get_absolute_url()).content.decode()
    assert f'<video controls preload="metadata" src="{file_url(clip)}"' in page
    assert f'<audio controls preload="none" src="{file_url(voice)}"' in page
    served = signed_in(alice).get(file_url(clip))
    assert served["Content-Type"] == "video/mp4" and served["Content-Disposition"].startswith("inline")


@pytest.mark.django_db
def test_an_svg_with_a_script_is_shared_only_as_a_download_and_the_uploader_is_told(people):
    alice, general = people["alice"], people["general"]
    answer = upload(signed_in(alice), general, "logo.svg", SCRIPTED_SVG)
    assert answer.status_code == 201
    assert "SVG pictures can carry scripts, so they are never shown" in answer.json()["notice"]
    send_with_files(alice, general, [answer.json()["id"]])
    attachment = Attachment.objects.get()
    assert attachment.kind == Attachment.Kind.FILE and attachment.content_type == "image/svg+xml"
    served = signed_in(alice).get(file_url(attachment))
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment")
    page = signed_in(alice).get(general.get_absolute_url()).content.decode()
    assert "SVG picture" in page and "<svg xmlns" not in page  # a card; its content never in the page


@pytest.mark.django_db
def test_an_html_page_named_png_is_refused_in_the_persons_language(people, files_root):
    alice, general = people["alice"], people["general"]
    answer = upload(signed_in(alice), general, "cat.png", HTML_PAGE)
    assert answer.status_code == 415
    assert answer.json()["error"] == (
        "“cat.png” is named like PNG image, but its content is HTML page. Nothing was uploaded."
    )
    chinese = upload(signed_in(alice), general, "cat.png", HTML_PAGE, headers={"accept-language": "zh-hans"})
    assert "cat.png" in chinese.json()["error"] and "HTML" in chinese.json()["error"]
    assert chinese.json()["error"] != answer.json()["error"]
    assert not Attachment.objects.exists() and stored_files(files_root) == []


@pytest.mark.django_db
def test_a_decompression_bomb_is_never_decoded_and_is_shared_as_a_download(people):
    alice, general = people["alice"], people["general"]
    answer = upload(signed_in(alice), general, "huge.png", bomb())
    assert answer.status_code == 201
    assert "too many pixels to preview safely" in answer.json()["notice"]
    attachment = Attachment.objects.get()
    assert attachment.kind == Attachment.Kind.FILE and attachment.width is None
    assert signed_in(alice).get(file_url(attachment)).get("Content-Disposition").startswith("attachment")


@pytest.mark.django_db
def test_a_picture_that_does_not_decode_becomes_a_download_when_its_thumbnail_fails(people):
    alice, general = people["alice"], people["general"]
    noise = Image.effect_noise((300, 300), 64).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG")
    truncated = out.getvalue()[: len(out.getvalue()) // 2]  # a good header, then half the picture
    attachment = shared(alice, general, "cut.jpg", truncated)
    assert attachment.kind == Attachment.Kind.IMAGE
    run_queued_tasks()
    attachment.refresh_from_db()
    assert attachment.kind == Attachment.Kind.FILE and not attachment.thumbnail_key
    assert attachment.message.changed_seq == attachment.message.seq + 1  # pages were told


# ---- limits ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_clearly_in_both_languages(people, settings, files_root):
    settings.MAX_UPLOAD_MB = 1
    alice, general = people["alice"], people["general"]
    data = b"x" * (1024 * 1024 + 1)
    answer = upload(signed_in(alice), general, "dump.bin", data)
    assert answer.status_code == 413
    assert answer.json()["error"] == "“dump.bin” is 1.0\xa0MB: files up to 1.0\xa0MB can be shared."
    chinese = upload(signed_in(alice), general, "dump.bin", data, headers={"accept-language": "zh-hans"})
    assert "1.0\xa0MB" in chinese.json()["error"] and chinese.json()["error"] != answer.json()["error"]
    far_too_large = upload(signed_in(alice), general, "big.bin", b"x" * (3 * 1024 * 1024))
    assert far_too_large.status_code == 413 and "files up to 1.0\xa0MB" in far_too_large.json()["error"]
    assert stored_files(files_root) == []
    page = signed_in(alice).get(general.get_absolute_url()).content.decode()
    assert f'data-max-upload="{1024 * 1024}" data-max-upload-label="1.0\xa0MB"' in page  # the page checks first


@pytest.mark.django_db
def test_the_sample_proxy_config_allows_the_apps_limit(settings):
    conf = (Path(django_settings.BASE_DIR) / "deploy" / "nginx.conf").read_text()
    proxy_mb = int(re.search(r"^\s*client_max_body_size (\d+)m;", conf, re.M).group(1))
    assert proxy_mb == settings.MAX_UPLOAD_MB + 1  # the file, and the form around it


@pytest.mark.django_db
def test_a_person_over_their_quota_is_told_how_much_they_use(people, settings):
    settings.UPLOAD_QUOTA_MB = 1
    alice, bob, general = people["alice"], people["bob"], people["general"]
    assert upload(signed_in(alice), general, "a.bin", b"x" * 600_000).status_code == 201
    refused = upload(signed_in(alice), general, "b.bin", b"x" * 600_000)
    assert refused.status_code == 413
    assert refused.json()["error"] == "“b.bin” does not fit: your files take 585.9\xa0KB of your 1.0\xa0MB."
    assert upload(signed_in(bob), general, "b.bin", b"x" * 600_000).status_code == 201  # per person


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
def test_uploads_draw_from_flood_control(people, settings):
    settings.UPLOAD_BURST, settings.UPLOAD_RATE = 2, 0.01
    alice, general = people["alice"], people["general"]
    client = signed_in(alice)
    assert [upload(client, general, f"{n}.txt", b"x").status_code for n in range(2)] == [201, 201]
    refused = upload(client, general, "3.txt", b"x")
    assert refused.status_code == 429 and "too fast" in refused.json()["error"]


# ---- proxies and object storage ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_proxy_sends_the_file_once_the_app_has_checked_it(people, settings, files_root):
    alice, general = people["alice"], people["general"]
    attachment = shared(alice, general, "plan.pdf")
    settings.FILES_SERVED_BY = "x-accel"
    accel = signed_in(alice).get(file_url(attachment))
    assert accel["X-Accel-Redirect"] == f"/protected-files/{attachment.key}" and accel.content == b""
    assert accel["Content-Disposition"].startswith("attachment") and accel["Content-Type"] == "application/octet-stream"
    settings.FILES_SERVED_BY = "x-sendfile"
    sendfile = signed_in(alice).get(file_url(attachment))
    assert sendfile["X-Sendfile"] == str(files_root / attachment.key)
    assert signed_in(people["carol"]).get(file_url(attachment)).status_code == 200  # an open room
    hidden = signed_in(make_user("dave")).get(reverse("rooms:file", args=[attachment.pk + 1000, "x"]))
    assert hidden.status_code == 404 and "X-Accel-Redirect" not in hidden


@pytest.mark.django_db
def test_from_object_storage_a_reader_gets_a_short_lived_signed_address(people, settings):
    alice, general = people["alice"], people["general"]
    attachment = shared(alice, general, "plan.pdf")
    settings.STORAGES = {
        **settings.STORAGES,
        "files": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "roomcast-files", "endpoint_url": "https://s3.example.com", "access_key": "key",
                "secret_key": "secret", "region_name": "us-east-1", "querystring_expire": 60,
                "signature_version": "s3v4",
            },
        },
    }  # fmt: skip
    answer = signed_in(alice).get(file_url(attachment))
    assert answer.status_code == 302 and answer["Cache-Control"] == "private, no-store"
    address = answer["Location"]
    assert address.startswith(f"https://s3.example.com/roomcast-files/{attachment.key}?")
    assert "X-Amz-Expires=60" in address and "X-Amz-Signature=" in address
    assert "response-content-disposition=attachment" in address
    assert signed_in(make_user("dave")).get(file_url(attachment)).status_code == 302  # an open room
    assert signed_in(make_user("erin")).get(reverse("rooms:file", args=[0, "x"])).status_code == 404
    assert storages["files"].__class__.__name__ == "S3Storage"


# ---- search -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_has_file_finds_the_messages_with_files(people):
    alice, general = people["alice"], people["general"]
    services.post_message(alice, general.pk, "no file here", uuid.uuid4())
    with_file = shared(alice, general, "plan.pdf", body="the plan").message
    alone = shared(alice, general, "budget.xlsx", b"PK\x03\x04" + bytes(40)).message  # no caption
    page = signed_in(alice).get(reverse("rooms:search"), {"q": "has:file"}).content.decode()
    assert f"/m/{with_file.pk}/" in page and "no file here" not in page
    assert "📎 plan.pdf" in page and "📎 budget.xlsx" in page and f"/m/{alone.pk}/" in page  # named
