"""Profiles through the Django test client: the settings page (display name, picture, theme), pictures checked,
squared and stripped of their metadata, a person's card with their local time, the theme on <html>, and
authors' profiles loaded with their messages at no extra query."""

from __future__ import annotations

import io
import re
import uuid
import zoneinfo
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation
from PIL import Image

from accounts import people as shown
from accounts.models import Profile
from rooms import frames, services

from .helpers import make_user

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
SECRET_CAMERA = "Alice's secret camera"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Pictures go to a directory of the test's own, never the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _nothing_left_active():
    # The test client serves requests in this thread: a page's language and zone must not reach the next test.
    yield
    translation.deactivate()
    timezone.deactivate()


def signed_in(user, **headers) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


def settings_post(**changes) -> dict:
    """What the settings form sends, as the page fills it for an account with nothing set."""
    return {"display_name": "", "language": "", "time_zone": "", "theme": "", "next": "/accounts/settings/"} | changes


def picture(fmt: str = "PNG", size: tuple[int, int] = (640, 480), exif: dict | None = None, **save) -> bytes:
    """A real picture: left half red, right half blue, with EXIF tags if given."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    tags = Image.Exif()
    for tag, value in (exif or {}).items():
        tags[tag] = value
    out = io.BytesIO()
    image.save(out, fmt, exif=tags.tobytes(), **save)
    return out.getvalue()


def upload(data: bytes, name: str = "holiday-at-grandmas.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page)[0]


# ---- display name and the card -------------------------------------------------------------------------------


def test_the_display_name_is_saved_and_shown_on_the_card(people):
    alice, bob = people["alice"], people["bob"]
    answer = signed_in(alice).post("/accounts/settings/", settings_post(display_name="  Alice Liddell "))
    assert answer.status_code == 302 and answer.headers["Location"] == "/accounts/settings/"
    assert Profile.objects.get(user=alice).display_name == "Alice Liddell"

    card = signed_in(bob).get("/people/alice/card/", HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and "<html" not in card.text  # a fragment, for htmx to place
    assert f'<h2 id="person-card-{alice.pk}-name" class="name">Alice Liddell</h2>' in card.text
    assert '<p class="username">@alice</p>' in card.text
    assert '<a class="button" href="/dm/alice/">Message</a>' in card.text
    assert f'<span class="avatar avatar-c{alice.pk % 8} avatar-lg" aria-hidden="true">AL</span>' in card.text
    assert card.headers["Vary"].count("HX-Request") == 1


def test_the_card_is_a_page_of_its_own_without_htmx(people):
    page = signed_in(people["bob"]).get("/people/alice/card/")
    assert page.status_code == 200 and "<html" in page.text
    assert "<title>alice" in page.text
    assert re.search(r'<h1 id="person-card-\d+-name" class="name">alice</h1>', page.text)


def test_my_own_card_leads_to_my_settings_not_to_a_conversation(people):
    card = signed_in(people["alice"]).get("/people/alice/card/", HTTP_HX_REQUEST="true").text
    assert "/dm/alice/" not in card and 'href="/accounts/settings/"' in card


def test_the_card_shows_the_persons_local_time_in_the_readers_language(people):
    alice, bob = people["alice"], people["bob"]
    Profile.objects.create(user=alice, time_zone="Asia/Kolkata")  # +05:30: no reader's zone is a whole hour off it
    Profile.objects.create(user=bob, time_zone="America/New_York", language="zh-hans")
    kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")
    before = timezone.now().astimezone(kolkata)
    card = signed_in(bob).get("/people/alice/card/", HTTP_HX_REQUEST="true").text
    after = timezone.now().astimezone(kolkata)
    local_time = re.compile(r'<p class="local-time" title="Asia/Kolkata">([^<]+)</p>')
    assert local_time.search(card)[1] in {f"当地时间 {t:%H:%M}" for t in (before, after)}  # bob reads Chinese

    english = signed_in(people["carol"], **ENGLISH).get("/people/alice/card/", HTTP_HX_REQUEST="true").text
    with translation.override("en"):  # English writes times its own way: "2:05 p.m.", "noon"
        times = {f"{formats.time_format(t)} local time" for t in (before, after)}
    assert local_time.search(english)[1] in times


def test_the_card_says_no_time_for_someone_whose_zone_is_unknown(people):
    card = signed_in(people["bob"]).get("/people/alice/card/", HTTP_HX_REQUEST="true").text
    assert "local time" not in card and "local-time" not in card


def test_no_card_for_an_unknown_or_inactive_person_and_none_signed_out(people):
    bob = signed_in(people["bob"])
    people["carol"].is_active = False
    people["carol"].save()
    assert bob.get("/people/carol/card/").status_code == 404
    assert bob.get("/people/carol/card/", HTTP_HX_REQUEST="true").status_code == 404
    assert bob.get("/people/nobody/card/").status_code == 404
    signed_out = Client().get("/people/alice/card/")
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["Alice\nAdmin", "Alice\u202eevil", "Alice\u2066", "tab\there", "Alice\u2028Admin"])
def test_a_display_name_cannot_hide_characters_that_change_how_it_reads(alice, name):
    answer = signed_in(alice, **ENGLISH).post("/accounts/settings/", settings_post(display_name=name))
    assert answer.status_code == 400
    assert "A display name cannot contain line breaks or invisible control characters." in answer.text
    assert not Profile.objects.filter(user=alice).exists()


def test_a_display_name_is_short(alice):
    answer = signed_in(alice, **ENGLISH).post("/accounts/settings/", settings_post(display_name="x" * 51))
    assert answer.status_code == 400 and "at most 50 characters" in answer.text


# ---- pictures ----------------------------------------------------------------------------------------------


def test_an_uploaded_picture_is_squared_to_256_and_stripped_of_its_exif(people, media_root):
    alice = people["alice"]
    data = picture(exif={0x010F: SECRET_CAMERA, 0x0132: "2026:11:28 10:30:00"})  # Make, DateTime
    assert SECRET_CAMERA.encode() in data and Image.open(io.BytesIO(data)).getexif()  # there to strip
    answer = signed_in(alice).post("/accounts/settings/", settings_post(avatar=upload(data)))
    assert answer.status_code == 302

    avatar = Profile.objects.get(user=alice).avatar
    assert re.fullmatch(r"avatars/[\w-]{22}\.webp", avatar.name)  # random, never the uploaded name
    stored = (media_root / avatar.name).read_bytes()
    assert SECRET_CAMERA.encode() not in stored and b"Exif" not in stored and b"EXIF" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "WEBP" and image.size == (256, 256)
        assert not image.getexif() and not {"exif", "icc_profile", "xmp"} & image.info.keys()
        assert image.getpixel((30, 128))[0] > 200 and image.getpixel((226, 128))[2] > 200  # red left, blue right

    # Everyone signed in sees it where she is shown, and the development server serves it.
    card = signed_in(people["bob"]).get("/people/alice/card/", HTTP_HX_REQUEST="true").text
    assert f'<img class="avatar avatar-lg" src="/media/{avatar.name}" alt="" loading="lazy">' in card
    served = signed_in(people["bob"]).get(f"/media/{avatar.name}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"
    assert b"".join(served.streaming_content) == stored


def test_a_photo_is_turned_upright_as_its_exif_says_before_it_is_squared(alice, media_root):
    # Stored sideways (left half red) with "rotate 90° clockwise to show": shown, red is on top.
    data = picture("JPEG", exif={0x0112: 6})
    signed_in(alice).post("/accounts/settings/", settings_post(avatar=upload(data, "photo.jpg", "image/jpeg")))
    with Image.open(media_root / Profile.objects.get(user=alice).avatar.name) as image:
        assert image.getpixel((128, 30))[0] > 200 and image.getpixel((128, 226))[2] > 200


@pytest.mark.parametrize(
    ("fmt", "save"),
    [("JPEG", {}), ("WEBP", {}), ("GIF", {"save_all": True, "append_images": [Image.new("RGB", (9, 9))]})],
)
def test_jpeg_webp_and_the_first_frame_of_a_gif_are_taken(alice, media_root, fmt, save):
    data = picture(fmt, (300, 300), **save)
    signed_in(alice).post("/accounts/settings/", settings_post(avatar=upload(data, f"a.{fmt.lower()}", "image/x")))
    with Image.open(media_root / Profile.objects.get(user=alice).avatar.name) as image:
        assert image.size == (256, 256) and image.getpixel((30, 128))[0] > 200


def test_a_transparent_picture_stays_transparent(alice, media_root):
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(out, "PNG")
    signed_in(alice).post("/accounts/settings/", settings_post(avatar=upload(out.getvalue())))
    with Image.open(media_root / Profile.objects.get(user=alice).avatar.name) as image:
        assert image.mode == "RGBA" and image.getpixel((10, 10))[3] == 0


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"#!/bin/sh\necho not a picture\n", "evil.png", "This file is not a picture Roomcast can read"),
        (picture("BMP"), "old.bmp", "This file is not a picture Roomcast can read"),  # a format not taken
        (picture()[:300], "cut.png", "This file is not a picture Roomcast can read"),  # truncated
        (b"\x89PNG" + b"\0" * (5 * 1024 * 1024), "huge.png", "This picture is 5.0\xa0MB: pictures up to 5.0\xa0MB"),
    ],
)
def test_a_file_that_is_not_a_picture_or_too_large_is_refused_and_what_was_typed_stays(alice, data, name, error):
    client = signed_in(alice, **ENGLISH)
    answer = client.post(
        "/accounts/settings/",
        settings_post(display_name="Alice Liddell", time_zone="Europe/Paris", theme="dark", avatar=upload(data, name)),
    )
    assert answer.status_code == 400
    assert error in answer.text
    # Nothing saved, and the form holds what she chose.
    assert not Profile.objects.filter(user=alice).exists()
    assert 'name="display_name" value="Alice Liddell"' in answer.text
    assert '<option value="Europe/Paris" selected>' in answer.text
    assert re.search(r'<input type="radio" name="theme" value="dark"[^>]* checked>', answer.text)


@pytest.mark.parametrize("size", [(8000, 6000), (10000, 10000), (15000, 15000)])  # ours, Pillow's warning, its error
def test_a_picture_with_too_many_pixels_is_refused_before_it_is_decoded(alice, size):
    # A few kilobytes that would unpack to hundreds of megabytes.
    out = io.BytesIO()
    Image.new("1", size).save(out, "PNG")
    answer = signed_in(alice, **ENGLISH).post("/accounts/settings/", settings_post(avatar=upload(out.getvalue())))
    assert answer.status_code == 400 and "This picture has more than 40 million pixels" in answer.text


def test_the_refusal_is_in_the_persons_language(alice):
    Profile.objects.create(user=alice, language="zh-hans")
    data = b"not a picture"
    answer = signed_in(alice, **ENGLISH).post(
        "/accounts/settings/", settings_post(language="zh-hans", avatar=upload(data))
    )
    assert answer.status_code == 400 and "此文件不是 Roomcast 能读取的图片" in answer.text


@pytest.mark.django_db(transaction=True)  # old files are deleted once the change is committed
def test_a_new_picture_replaces_the_old_file_and_removing_deletes_it(alice, media_root):
    client = signed_in(alice)
    client.post("/accounts/settings/", settings_post(avatar=upload(picture())))
    first = Profile.objects.get(user=alice).avatar.name
    client.post("/accounts/settings/", settings_post(avatar=upload(picture("JPEG"), "b.jpg")))
    second = Profile.objects.get(user=alice).avatar.name
    assert second != first and not (media_root / first).exists() and (media_root / second).exists()

    page = client.get("/accounts/settings/").text
    assert 'name="remove_avatar"' in page and f'src="/media/{second}"' in page
    client.post("/accounts/settings/", settings_post(display_name="Alice", remove_avatar="on"))
    profile = Profile.objects.get(user=alice)
    assert not profile.avatar and profile.display_name == "Alice" and not (media_root / second).exists()
    assert 'name="remove_avatar"' not in client.get("/accounts/settings/").text


def test_saving_other_settings_keeps_the_picture(alice, media_root):
    client = signed_in(alice)
    client.post("/accounts/settings/", settings_post(avatar=upload(picture())))
    name = Profile.objects.get(user=alice).avatar.name
    client.post("/accounts/settings/", settings_post(display_name="Alice"))
    assert Profile.objects.get(user=alice).avatar.name == name and (media_root / name).exists()


def test_media_serves_only_files_under_media_root(alice, media_root, settings, tmp_path):
    (tmp_path / "outside.txt").write_text("not yours")
    client = signed_in(alice)
    assert client.get("/media/../outside.txt").status_code in {400, 404}
    assert client.get("/media/%2e%2e/outside.txt").status_code in {400, 404}
    assert client.get("/media/avatars/../../outside.txt").status_code in {400, 404}
    assert client.get("/media/avatars/nothing.webp").status_code == 404


# ---- the settings page and the theme -------------------------------------------------------------------------


def test_the_settings_page_has_every_setting_and_links_the_accounts_security(alice):
    page = signed_in(alice, **ENGLISH).get("/accounts/settings/")
    assert page.status_code == 200 and "<h1>Settings</h1>" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    for field in ("avatar", "display_name", "language", "time_zone", "theme"):
        assert f'name="{field}"' in page.text, field
    assert 'accept="image/png,image/jpeg,image/webp,image/gif"' in page.text
    for link in ("/accounts/password/change/", "/accounts/email/", "/accounts/sessions/", "/accounts/2fa/"):
        assert f'href="{link}"' in page.text, link
    assert "coming soon" not in page.text.lower()
    # Her initials stand in for a picture she has not uploaded.
    assert re.search(r'<span class="avatar avatar-c\d avatar-lg" aria-hidden="true">A</span>', page.text)


def test_the_settings_page_in_chinese(alice):
    Profile.objects.create(user=alice, language="zh-hans")
    page = signed_in(alice).get("/accounts/settings/").text
    for words in ("<h1>设置</h1>", "显示名称", "头像", "外观", "跟随系统", "深色"):
        assert words in page, words


def test_the_theme_is_saved_and_set_on_html(alice):
    client = signed_in(alice)
    assert "data-theme" not in html_tag(client.get("/").text)  # the system's, by the stylesheet's media query
    client.post("/accounts/settings/", settings_post(theme="dark"))
    assert Profile.objects.get(user=alice).theme == "dark"
    assert html_tag(client.get("/").text) == '<html lang="en" data-theme="dark">'
    client.post("/accounts/settings/", settings_post(theme="light"))
    assert html_tag(client.get("/people/").text) == '<html lang="en" data-theme="light">'
    client.post("/accounts/settings/", settings_post(theme=""))
    assert html_tag(client.get("/").text) == '<html lang="en">'
    assert signed_in(alice).post("/accounts/settings/", settings_post(theme="neon")).status_code == 400


# ---- how people are shown ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alice", "A"),
        ("Ada Lovelace", "AL"),
        ("ada  byron lovelace", "AL"),
        ("mary_jane", "MJ"),
        ("王小明", "王"),
        ("田中 太郎", "田"),
        ("김민준", "김"),
        ("Émile Zola", "ÉZ"),
        ("straße", "S"),
        ("🙂 Sam", "S"),
        ("🙂🙂", ""),
        ("jo.o'neil", "JO"),
    ],
)
def test_initials(name, expected):
    assert shown.initials(name) == expected


def test_a_person_is_named_by_their_display_name_else_their_username(alice, bob):
    Profile.objects.create(user=alice, display_name="🙂🙂", avatar="avatars/x.webp")
    alice.refresh_from_db()
    her, him = shown.person(alice), shown.person(bob)
    assert (her.name, her.initials, her.avatar_url) == ("🙂🙂", "A", "/media/avatars/x.webp")  # initials: username
    assert (him.name, him.initials, him.avatar_url) == ("bob", "B", "")
    assert her.colour == alice.pk % 8 and him.colour == bob.pk % 8 and her.colour != him.colour


# ---- the cost: authors' profiles come with their messages ------------------------------------------------------


def authors_with_profiles(general, count: int) -> None:
    """`count` more people, each with a display name and a picture, each writing in the room."""
    for i in range(count):
        person = make_user(f"author{uuid.uuid4().hex[:8]}")
        Profile.objects.create(user=person, display_name=f"Author {i}", avatar=f"avatars/{i}.webp")
        services.post_message(person, general.pk, f"hello from {i}", uuid.uuid4())


def test_history_and_catch_up_name_their_authors_without_a_query_each(people, monkeypatch):
    general = people["general"]
    authors_with_profiles(general, 5)
    page, _ = services.history(general)
    later, _ = services.newer(general, 0)
    around, *_ = services.around(general, page[2].seq)
    with CaptureQueriesContext(connection) as queries:
        for message in [*page, *later, *around]:
            shown.person(message.author)
    assert len(queries) == 0, [q["sql"] for q in queries]

    rendered = []

    def messages_frame(room_id, messages, upto=None):
        with CaptureQueriesContext(connection) as queries:
            rendered.extend(shown.person(m.author) for m in messages)
        assert len(queries) == 0, [q["sql"] for q in queries]
        return ""

    monkeypatch.setattr(frames, "messages_frame", messages_frame)
    services.catch_up_frame(people["alice"], general.pk, 0)
    assert {p.name for p in rendered} == {f"Author {i}" for i in range(5)}


def test_an_edit_names_its_author_without_a_query(people, monkeypatch):
    alice = people["alice"]
    Profile.objects.create(user=alice, display_name="Alice Liddell")
    message = services.post_message(alice, people["general"].pk, "helo", uuid.uuid4()).message
    broadcast = []
    monkeypatch.setattr(frames, "broadcast", broadcast.extend)
    services.edit_message(alice, message.pk, "hello")
    with CaptureQueriesContext(connection) as queries:
        assert shown.name(broadcast[0].author) == "Alice Liddell"
    assert len(queries) == 0


def test_the_sidebar_names_conversation_partners_without_a_query_each(people):
    alice = people["alice"]
    Profile.objects.create(user=people["bob"], display_name="Bob B.")
    services.post_message(alice, people["dm"].pk, "hi bob", uuid.uuid4())
    for i in range(3):
        other = make_user(f"friend{i}")
        Profile.objects.create(user=other, display_name=f"Friend {i}")
        services.post_message(alice, services.direct_room(alice, other).pk, "hi", uuid.uuid4())
    directs = services.sidebar(alice)["directs"]
    with CaptureQueriesContext(connection) as queries:
        names = {shown.name(d["other"]) for d in directs}
    assert len(queries) == 0 and names == {"Bob B.", "Friend 0", "Friend 1", "Friend 2"}


def test_a_room_page_costs_the_same_queries_for_two_authors_or_ten(people):
    general = people["general"]
    client = signed_in(people["alice"])

    authors_with_profiles(general, 2)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/rooms/general/").status_code == 200
    few = len(queries)
    authors_with_profiles(general, 8)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/rooms/general/").status_code == 200
    assert len(queries) == few
    # The messages' query brings their authors' profiles (what the page shows of them: name, avatar).
    assert any('FROM "rooms_message"' in q["sql"] and '"accounts_profile"' in q["sql"] for q in queries)
