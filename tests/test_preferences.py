"""A person's language and time zone, through the Django test client: the browser's language on a first visit,
the language menu (remembered on the account, and in the cookie for signed-out pages), the time zone the
browser reports, the preferences page, and pages (admin included) in the person's language and zone."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from accounts.backends import ModelBackend
from accounts.models import Profile
from rooms import services
from rooms.models import Message

from .helpers import make_user

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


@pytest.fixture(autouse=True)
def _nothing_left_active():
    """The test client serves requests in the test's own thread, where the last request's language and zone
    stay active (a server gives each request its own context): later tests rendering outside a request, such
    as the 500 page, must not find Chinese or Shanghai there."""
    yield
    translation.deactivate()
    timezone.deactivate()


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]*)"', response.content.decode())[1]


def signed_in(user, **headers) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


# ---- the browser's language, and the menu ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "sign_up"),
    [
        ("zh-CN,zh;q=0.9", "zh-hans", "注册"),
        ("zh", "zh-hans", "注册"),
        ("zh-TW", "zh-hans", "注册"),
        ("en-GB,en;q=0.9", "en", "Sign up"),
        ("", "en", "Sign up"),
    ],
)
def test_a_first_visit_follows_the_browsers_language(accept, lang, sign_up):
    page = Client(HTTP_ACCEPT_LANGUAGE=accept).get("/accounts/login/")
    assert html_lang(page) == lang
    assert f">{sign_up}</a>" in page.content.decode()  # the top bar's link


def test_the_language_menu_signed_out_sets_the_cookie_and_goes_back():
    browser = Client(**ENGLISH)
    page = browser.get("/accounts/login/").content.decode()
    assert (
        '<select id="language-menu" name="language"' in page and '<label for="language-menu">Language</label>' in page
    )
    assert '<option value="zh-hans" lang="zh-hans">简体中文</option>' in page  # named in itself

    answer = browser.post("/accounts/language/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/accounts/login/"
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    again = browser.get("/accounts/login/")
    assert html_lang(again) == "zh-hans" and "登录" in again.content.decode()
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in again.content.decode()


def test_the_language_menu_is_remembered_on_the_account_in_every_browser(alice):
    laptop = signed_in(alice, **ENGLISH)
    assert not Profile.objects.filter(user=alice).exists()  # nothing saved until a choice is made
    laptop.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    assert Profile.objects.get(user=alice).language == "zh-hans"

    phone = signed_in(alice, **ENGLISH)  # no cookie, an English browser: the account decides
    page = phone.get("/")
    assert html_lang(page) == "zh-hans" and "创建房间" in page.content.decode()
    assert page.headers["Content-Language"] == "zh-hans"

    laptop.post("/accounts/language/", {"language": "en", "next": "/"})
    assert html_lang(signed_in(alice, **CHINESE).get("/")) == "en"


def test_the_language_menu_takes_only_the_sites_languages(alice):
    client = signed_in(alice, **ENGLISH)
    for language in ("fr", "", "zh-hans' OR 1=1"):
        client.post("/accounts/language/", {"language": language, "next": "/"})
    assert not Profile.objects.filter(user=alice).exists()
    assert html_lang(client.get("/")) == "en"


def test_the_language_menu_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/accounts/language/", {"language": "zh-hans", "next": "/"}).status_code == 403
    assert not Profile.objects.filter(user=alice).exists()


def test_the_account_language_wins_over_the_cookie(alice):
    Profile.objects.create(user=alice, language="zh-hans")
    client = signed_in(alice, **ENGLISH)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert html_lang(client.get("/people/")) == "zh-hans"


# ---- the time zone -----------------------------------------------------------------------------------------


def test_the_page_asks_the_browser_for_its_zone_only_while_the_account_has_none(alice):
    client = signed_in(alice)
    response = client.get("/")
    script = re.search(r'<script type="module" src="/static/js/timezone.js" nonce="([^"]+)"[^>]*>', response.text)
    assert script and 'data-time-zone-url="/accounts/preferences/time-zone/"' in script[0]
    assert f"'nonce-{script[1]}'" in response.headers["Content-Security-Policy"]
    assert client.post("/accounts/preferences/time-zone/", {"time_zone": "Asia/Shanghai"}).status_code == 204
    assert Profile.objects.get(user=alice).time_zone == "Asia/Shanghai"
    assert "timezone.js" not in client.get("/").content.decode()


def test_a_reported_zone_never_replaces_one_the_account_has(alice):
    Profile.objects.create(user=alice, time_zone="Europe/Paris")
    client = signed_in(alice)
    assert client.post("/accounts/preferences/time-zone/", {"time_zone": "Asia/Shanghai"}).status_code == 204
    assert Profile.objects.get(user=alice).time_zone == "Europe/Paris"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Asia/Shanghai\x00"])
def test_a_reported_zone_must_be_one_zoneinfo_knows(alice, zone):
    answer = signed_in(alice).post("/accounts/preferences/time-zone/", {"time_zone": zone})
    assert answer.status_code == 400
    assert not Profile.objects.filter(user=alice).exclude(time_zone="").exists()


def test_the_zone_report_is_a_signed_in_post(alice):
    answer = Client().post("/accounts/preferences/time-zone/", {"time_zone": "Asia/Shanghai"})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/accounts/login/")
    assert signed_in(alice).get("/accounts/preferences/time-zone/").status_code == 405
    assert not Profile.objects.exists()


def test_times_are_shown_in_the_readers_zone_and_no_zone_leaks_to_the_next_person(alice, bob):
    room = services.create_room(alice, "General")
    message = services.post_message(alice, room.pk, "tea at half past", uuid.uuid4()).message
    Message.objects.filter(pk=message.pk).update(created_at=datetime(2026, 11, 28, 10, 30, tzinfo=UTC))
    Profile.objects.create(user=alice, time_zone="Asia/Shanghai")
    clock = re.compile(r"<time datetime=\"([^\"]+)\">(\d\d:\d\d)</time>")

    shown = clock.search(signed_in(alice).get("/rooms/general/").content.decode())
    assert shown.groups() == ("2026-11-28T18:30:00+08:00", "18:30")
    # Same thread, next request: bob has no zone yet, so UTC, not alice's.
    shown = clock.search(signed_in(bob).get("/rooms/general/").content.decode())
    assert shown.groups() == ("2026-11-28T10:30:00+00:00", "10:30")


# ---- the preferences page ----------------------------------------------------------------------------------


def test_the_security_page_links_to_the_settings(alice):
    page = signed_in(alice).get("/accounts/security/").content.decode()
    assert '<a href="/accounts/settings/">Settings</a>' in page


def test_preferences_are_saved_and_the_page_says_so_in_the_new_language(alice):
    client = signed_in(alice, **ENGLISH)
    page = client.get("/accounts/preferences/").content.decode()
    assert '<option value="" selected>The browser&#x27;s language</option>' in page
    assert '<option value="Asia/Shanghai">Asia/Shanghai</option>' in page

    answer = client.post(
        "/accounts/preferences/",
        {"language": "zh-hans", "time_zone": "America/New_York", "next": "/accounts/preferences/"},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/accounts/preferences/"
    profile = Profile.objects.get(user=alice)
    assert (profile.language, profile.time_zone) == ("zh-hans", "America/New_York")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"  # this browser's signed-out pages
    page = client.get("/accounts/preferences/")
    assert html_lang(page) == "zh-hans" and "您的偏好设置已保存。" in page.content.decode()


def test_the_browsers_language_again_forgets_the_cookie(alice):
    Profile.objects.create(user=alice, language="zh-hans")
    client = signed_in(alice, **ENGLISH)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.post("/accounts/preferences/", {"language": "", "time_zone": "", "next": "/accounts/preferences/"})
    assert Profile.objects.get(user=alice).language == ""
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    page = client.get("/accounts/preferences/")
    assert html_lang(page) == "en" and "Your preferences are saved." in page.content.decode()


def test_a_zone_that_is_not_one_is_refused_and_nothing_is_saved(alice):
    client = signed_in(alice, **ENGLISH)
    answer = client.post("/accounts/preferences/", {"language": "zh-hans", "time_zone": "Moon/Tranquility"})
    assert answer.status_code == 400
    assert "Select a valid choice. Moon/Tranquility is not one of the available choices." in answer.content.decode()
    assert not Profile.objects.exists()


def test_the_preferences_page_is_signed_in_only():
    answer = Client().get("/accounts/preferences/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/accounts/login/")


# ---- admin, and the cost ------------------------------------------------------------------------------------


def test_admin_speaks_the_accounts_language():
    admin = make_user("root", is_staff=True, is_superuser=True)
    Profile.objects.create(user=admin, language="zh-hans")
    page = signed_in(admin, **ENGLISH).get("/admin/")
    assert html_lang(page) == "zh-hans" and "站点管理" in page.content.decode()


def test_the_profile_comes_with_the_signed_in_user_at_no_extra_query(alice, bob, django_assert_num_queries):
    Profile.objects.create(user=alice, language="zh-hans", time_zone="Asia/Shanghai")
    backend = ModelBackend()
    with django_assert_num_queries(2):  # one each, as before: the profile is joined
        with_profile, without = backend.get_user(alice.pk), backend.get_user(bob.pk)
    with django_assert_num_queries(0):
        assert Profile.of(with_profile).time_zone == "Asia/Shanghai"
        assert Profile.of(without) is None
