"""Notifications: who is notified of which message (DMs, mentions, keywords, rooms set to everything; never
one's own, a muted room, one already read or a room in front), the frame a hidden tab shows, Web Push end to
end against a local push service that decrypts (RFC 8291) and checks the signature (RFC 8292), pruning of
expired devices, the away email (batched, cancelled when read, unsubscribed), and the settings page."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from rooms import services
from rooms.models import Membership, Mention, Message, NotificationSettings, PushSubscription, Room, RoomNotified
from rooms.notify import away, decide, passes

from .helpers import drain, frames_until, make_user, never_sees, open_socket, run_queued_tasks
from .support.push_service import PushService, push_service, vapid_keys  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _no_pass_pending():
    """A pass asked for by an earlier test (or run) must not stand in for this test's."""
    passes._covered.clear()
    cache.delete_many([passes._due_key(n) for n in range(1, 2000)])


def send(user, room: Room, body: str):
    return services.post_message(user, room.pk, body, uuid.uuid4()).message


def run_passes() -> None:
    """The worker's turn, without the pass's short wait: what is queued runs now, and then as much time has
    passed as it would have (the next message asks for a pass of its own)."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    run_queued_tasks()
    passes._covered.clear()


def minutes_pass(minutes: int) -> None:
    """What was said, and what the last away email told, `minutes` further in the past."""
    delta = dt.timedelta(minutes=minutes)
    Message.objects.update(created_at=F("created_at") - delta)
    NotificationSettings.objects.update(emailed_until=F("emailed_until") - delta)


def email_after_the_delay() -> None:
    """The pass (which schedules the away email), the person's ten minutes, then the email's turn."""
    run_passes()
    minutes_pass(11)
    run_passes()


def alerted(room: Room, *messages, watching: frozenset[int] = frozenset()) -> set[tuple[str, str]]:
    room = Room.objects.get(pk=room.pk)
    found = decide.alerts(room, [type(m).objects.get(pk=m.pk) for m in messages], set(watching)).alerts
    names = {u.pk: u.username for u in type(messages[0].author).objects.all()}
    return {(names[a.user_id], a.reason.value) for a in found}


# ---- who is notified --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_room_set_to_everything_notifies_its_members_but_never_the_author(people):
    message = send(people["alice"], people["general"], "lunch?")
    Membership.objects.update(last_read_seq=0)  # not even if her read mark were behind her own message
    assert alerted(people["general"], message) == {("bob", "everything"), ("carol", "everything")}


@pytest.mark.django_db(transaction=True)
def test_mentions_only_and_muted_rooms(people):
    general = people["general"]
    services.set_involvement(people["bob"], general.pk, "mentions")
    services.set_involvement(people["carol"], general.pk, "nothing")
    plain = send(people["alice"], general, "lunch?")
    named = send(people["alice"], general, "@bob @carol lunch?")
    assert alerted(general, plain) == set()
    assert alerted(general, named) == {("bob", "mention")}  # carol muted the room: not even a mention


@pytest.mark.django_db(transaction=True)
def test_a_direct_message_notifies_the_other_person(people):
    message = send(people["alice"], people["dm"], "are you there?")
    assert alerted(people["dm"], message) == {("bob", "direct")}


@pytest.mark.django_db(transaction=True)
def test_keywords_count_as_mentions(people):
    general = people["general"]
    services.set_involvement(people["bob"], general.pk, "mentions")
    services.set_involvement(people["carol"], general.pk, "nothing")
    NotificationSettings.objects.create(user=people["bob"], keywords="deploy, 发布\nOutage")
    hits = [send(people["alice"], general, text) for text in ("Deploy done", "今天发布吗", "big OUTAGE")]
    misses = [send(people["alice"], general, text) for text in ("redeployed", "deployment")]
    for message in hits:
        assert alerted(general, message) == {("bob", "keyword")}
    for message in misses:
        assert alerted(general, message) == set()


@pytest.mark.django_db(transaction=True)
def test_nobody_is_notified_of_what_they_read_or_are_watching(people):
    general = people["general"]
    message = send(people["alice"], general, "lunch?")
    services.mark_read(people["bob"], general.pk, message.seq)
    assert alerted(general, message) == {("carol", "everything")}
    assert alerted(general, message, watching=frozenset({people["carol"].pk})) == set()


@pytest.mark.django_db(transaction=True)
def test_someone_named_in_an_open_room_they_are_not_in_is_notified(people):
    make_user("dave")
    message = send(people["alice"], people["general"], "@dave have a look")
    assert ("dave", "mention") in alerted(people["general"], message)


@pytest.mark.django_db(transaction=True)
def test_nobody_hears_of_a_room_they_can_no_longer_read(people):
    hideout = services.create_room(people["alice"], "Hideout", private=True)
    services.invite(people["alice"], hideout, "bob")
    message = send(people["alice"], hideout, "@bob the plan: Initech")
    services.remove_member(people["alice"], hideout, people["bob"])  # before the pass
    assert alerted(hideout, message) == set()


@pytest.mark.django_db(transaction=True)
def test_the_banned_hear_of_nothing(people, mailbox):
    from moderation import services as moderation

    moderation.ban(people["mod"], people["bob"], "spam")
    message = send(people["alice"], people["dm"], "hello bob")
    assert alerted(people["dm"], message) == set()
    away.schedule({people["bob"].pk})  # an email scheduled before the ban
    minutes_pass(11)
    run_passes()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_account_is_never_notified(people):
    people["bob"].is_active = False
    people["bob"].save()
    message = send(people["alice"], people["dm"], "hello?")
    assert alerted(people["dm"], message) == set()


def test_keywords_as_written_on_the_settings_page():
    assert decide.keywords(" deploy ,Outage\n\n发布，上线、deploy ") == ["deploy", "Outage", "发布", "上线"]
    assert decide.keyword_pattern("") is None


# ---- hidden tabs: the frame ---------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_a_page_elsewhere_is_told_and_a_page_watching_the_room_is_not(people):
    general = people["general"]
    bob, _ = await open_socket(people["bob"], f"/ws/rooms/{general.pk}/")  # in front on General
    carol, _ = await open_socket(people["carol"], "/ws/")  # on another page
    await drain(bob)
    await drain(carol)
    await database_sync_to_async(send)(people["alice"], general, "first")
    await database_sync_to_async(send)(people["alice"], general, "@carol second")
    await database_sync_to_async(run_passes)()
    frame = (await frames_until(carol, 'id="notification"'))[-1]
    notice = json.loads(_attribute(frame, "data-notice"))
    assert notice["title"] == "alice mentioned you in #General"
    assert notice["body"] == "2 new messages\nalice: @carol second" and notice["count"] == 2
    assert notice["url"].startswith("/m/") and notice["tag"] == f"room-{general.pk}"
    assert await never_sees(bob, 'id="notification"')
    # Bob's tab goes to the background: now he is told.
    await bob.send_to(text_data=json.dumps({"action": "visibility", "visible": 0}))
    await drain(bob)
    await database_sync_to_async(send)(people["alice"], general, "third")
    await database_sync_to_async(run_passes)()
    assert "third" in _attribute((await frames_until(bob, 'id="notification"'))[-1], "data-notice")
    await bob.disconnect()
    await carol.disconnect()


@pytest.mark.asyncio
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_the_frame_comes_in_the_language_of_the_page(people):
    carol, _ = await open_socket(people["carol"], "/ws/?lang=zh-hans")
    await drain(carol)
    await database_sync_to_async(send)(people["alice"], people["general"], "@carol 你好")
    await database_sync_to_async(run_passes)()
    notice = json.loads(_attribute((await frames_until(carol, 'id="notification"'))[-1], "data-notice"))
    assert notice["title"] == "alice 在 #General 提到了你"
    await carol.disconnect()


def _attribute(frame: str, name: str) -> str:
    start = frame.index(f'{name}="') + len(name) + 2
    return html.unescape(frame[start : frame.index('"', start)])


@pytest.mark.django_db(transaction=True)
def test_a_burst_is_one_pass_and_each_message_is_considered_once(people):
    general = people["general"]
    for n in range(5):
        send(people["alice"], general, f"message {n}")
    assert DBTaskResult.objects.filter(task_path="rooms.notify.passes.notify_room").count() == 1
    run_passes()
    assert DBTaskResult.objects.filter(task_path="rooms.notify.passes.notify_room", status="SUCCESSFUL").count() == 1
    send(people["alice"], general, "later")  # a new pass, over "later" alone
    run_passes()
    assert RoomNotified.objects.get(room=general).upto == Message.objects.filter(room=general).latest("seq").seq


@pytest.mark.django_db(transaction=True)
def test_keyword_hits_are_listed_with_the_mentions_even_when_not_notified(people):
    NotificationSettings.objects.create(user=people["bob"], keywords="deploy")
    message = send(people["alice"], people["general"], "deploy at 5")
    services.mark_read(people["bob"], people["general"].pk, message.seq)  # read already: no notification
    run_passes()
    assert Mention.objects.filter(message=message, user=people["bob"], keyword=True).exists()
    services.edit_message(people["alice"], message.pk, "deploy at 6, @carol")  # an edit keeps it
    assert set(Mention.objects.filter(message=message).values_list("user__username", flat=True)) == {"bob", "carol"}


# ---- Web Push -----------------------------------------------------------------------------------------------


@pytest.fixture
def web_push(settings, push_service):
    """The server's VAPID keys as `manage.py vapid_keys` prints them, and the local push service allowed."""
    out = io.StringIO()
    call_command("vapid_keys", stdout=out)
    keys = dict(line.split("=", 1) for line in out.getvalue().split())
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = keys["VAPID_PUBLIC_KEY"], keys["VAPID_PRIVATE_KEY"]
    settings.VAPID_SUBJECT = "mailto:admin@roomcast.example"
    settings.PUSH_SERVICES = [push_service.origin]
    return push_service


def subscribe(user, service: PushService, language: str = "en"):
    """A device of `user` subscribes, as the page does: its browser's subscription, posted as JSON."""
    device = service.subscriber()
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36")
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.post(
        "/notifications/devices/",
        json.dumps({"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 201, response.content
    return device


@pytest.mark.django_db(transaction=True)
def test_a_person_with_no_page_open_gets_one_encrypted_push_per_room_for_a_burst(people, web_push, settings):
    device = subscribe(people["bob"], web_push)
    for text in ("one", "two", "three"):
        send(people["alice"], people["general"], text)
    run_passes()
    (delivery,) = web_push.wait_for(1)
    assert web_push.failures == []
    assert delivery.subscriber == device
    assert delivery.vapid_key == settings.VAPID_PUBLIC_KEY  # signed with our key (RFC 8292), checked by the service
    assert delivery.claims["sub"] == "mailto:admin@roomcast.example"
    assert delivery.payload["title"] == "#General" and delivery.payload["count"] == 3
    assert delivery.payload["body"] == "3 new messages\nalice: three"
    assert delivery.topic is None and delivery.ttl > 0  # a device back online gets every burst, and adds them up
    row = PushSubscription.objects.get(user=people["bob"])
    assert row.last_status == 201 and row.last_sent_at is not None and row.device == "Chrome on Linux"


@pytest.mark.django_db(transaction=True)
def test_a_push_speaks_the_language_of_its_device_and_is_urgent_for_a_dm(people, web_push):
    subscribe(people["bob"], web_push, language="zh-hans")
    for text in ("在吗", "回一下"):
        send(people["alice"], people["dm"], text)
    run_passes()
    (delivery,) = web_push.wait_for(1)
    assert delivery.payload["title"] == "alice" and delivery.payload["body"].startswith("2 条新消息")
    assert delivery.urgency == "high"


@pytest.mark.django_db(transaction=True)
def test_a_person_who_turned_sound_off_gets_silent_notifications(people, web_push):
    subscribe(people["bob"], web_push)
    subscribe(people["carol"], web_push)
    NotificationSettings.objects.create(user=people["bob"], sound=False)
    send(people["alice"], people["general"], "quietly")
    run_passes()
    silent = {d.subscriber.endpoint: d.payload["silent"] for d in web_push.wait_for(2)}
    by_user = dict(PushSubscription.objects.values_list("endpoint", "user__username"))
    assert {by_user[e]: s for e, s in silent.items()} == {"bob": True, "carol": False}


@pytest.mark.django_db(transaction=True)
def test_expired_devices_are_removed_and_other_refusals_kept(people, web_push):
    gone, failing, fine = (subscribe(people["bob"], web_push) for _ in range(3))
    web_push.answer(gone, 410)
    web_push.answer(failing, 500)
    send(people["alice"], people["dm"], "hello")
    run_passes()
    web_push.wait_for(1)
    endpoints = dict(PushSubscription.objects.values_list("endpoint", "last_status"))
    assert gone.endpoint not in endpoints
    assert endpoints == {failing.endpoint: 500, fine.endpoint: 201}
    web_push.answer(fine, 404)
    send(people["alice"], people["dm"], "hello again")
    run_passes()
    assert set(PushSubscription.objects.values_list("endpoint", flat=True)) == {failing.endpoint}


@pytest.mark.django_db(transaction=True)
def test_the_test_button_pushes_to_each_device(people, web_push):
    devices = [subscribe(people["bob"], web_push) for _ in range(2)]
    client = Client()
    client.force_login(people["bob"])
    response = client.post("/notifications/test/", follow=True)
    assert "A test notification is on its way" in response.content.decode()
    run_queued_tasks()
    assert {d.subscriber for d in web_push.wait_for(2)} == set(devices)
    page = client.get("/notifications/").content.decode()
    assert page.count("delivered to its push service") == 2
    again = client.post("/notifications/test/", follow=True).content.decode()
    assert "Wait a few seconds" in again  # one test a few seconds, not a task per click


@pytest.mark.django_db(transaction=True)
def test_only_a_push_service_is_accepted_as_a_device(people, web_push):
    client = Client()
    client.force_login(people["bob"])
    device = web_push.subscriber()
    keys = {"p256dh": device.p256dh, "auth": device.auth}
    for endpoint in ("http://127.0.0.1:6379/", "https://169.254.169.254/latest", "file:///etc/passwd"):
        body = json.dumps({"endpoint": endpoint, "keys": keys})
        response = client.post("/notifications/devices/", body, content_type="application/json")
        assert response.status_code == 400 and "not one Roomcast sends to" in response.json()["error"]
    body = json.dumps({"endpoint": device.endpoint, "keys": {"p256dh": "<script>", "auth": "x"}})
    assert client.post("/notifications/devices/", body, content_type="application/json").status_code == 400
    assert not PushSubscription.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_logging_out_takes_that_logins_devices_off(people, web_push):
    client = Client(HTTP_USER_AGENT="Firefox/140.0")
    client.force_login(people["bob"])
    device = web_push.subscriber()
    keys = {"p256dh": device.p256dh, "auth": device.auth}
    body = json.dumps({"endpoint": device.endpoint, "keys": keys})
    assert client.post("/notifications/devices/", body, content_type="application/json").status_code == 201
    other = subscribe(people["bob"], web_push)  # another login's device stays
    client.post("/accounts/logout/")
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [other.endpoint]


@pytest.mark.django_db(transaction=True)
def test_a_device_is_removed_by_its_owner_only(people, web_push):
    subscribe(people["bob"], web_push)
    row = PushSubscription.objects.get()
    intruder = Client()
    intruder.force_login(people["carol"])
    intruder.post("/notifications/devices/forget/", {"device": row.pk})
    assert PushSubscription.objects.exists()
    owner = Client()
    owner.force_login(people["bob"])
    owner.post("/notifications/devices/forget/", {"device": row.pk})
    assert not PushSubscription.objects.exists()


# ---- email when away --------------------------------------------------------------------------------------


@pytest.fixture
def mailbox(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.SITE_URL = "https://chat.example"


@pytest.mark.django_db(transaction=True)
def test_what_waits_unread_is_one_email(people, mailbox):
    general = people["general"]
    services.set_involvement(people["bob"], general.pk, "mentions")
    send(people["alice"], people["dm"], "are you around?")
    send(people["alice"], general, "@bob the build is red")
    send(people["alice"], general, "nothing for bob")
    run_passes()
    assert DBTaskResult.objects.filter(task_path="rooms.notify.away.send_away_email").count() == 1
    minutes_pass(11)
    run_passes()
    (email,) = mail.outbox
    assert email.to == ["bob@example.com"]
    assert email.subject == "2 messages are waiting for you in Roomcast"
    assert "are you around?" in email.body and "the build is red" in email.body and "nothing for bob" not in email.body
    page, _ = email.alternatives[0]
    assert "https://chat.example/m/" in page and "#General" in page
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Later messages make a new email, without repeating these.
    send(people["alice"], people["dm"], "still there?")
    email_after_the_delay()
    assert len(mail.outbox) == 2 and "are you around?" not in mail.outbox[1].body


@pytest.mark.django_db(transaction=True)
def test_no_email_once_it_was_read(people, mailbox):
    message = send(people["alice"], people["dm"], "are you around?")
    run_passes()
    services.mark_read(people["bob"], people["dm"].pk, message.seq)
    minutes_pass(11)
    run_passes()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_what_came_just_before_the_email_waits_its_own_delay(people, mailbox):
    send(people["alice"], people["dm"], "are you around?")
    run_passes()
    minutes_pass(11)
    send(people["alice"], people["dm"], "one more thing")  # seconds before the email goes
    run_passes()
    (email,) = mail.outbox
    assert "are you around?" in email.body and "one more thing" not in email.body
    minutes_pass(11)  # its own ten minutes: the next email, scheduled by the first
    run_passes()
    assert len(mail.outbox) == 2 and "one more thing" in mail.outbox[1].body


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_failure_leaves_the_messages_for_the_next_email(people, mailbox, monkeypatch):
    send(people["alice"], people["dm"], "are you around?")
    run_passes()
    minutes_pass(11)
    monkeypatch.setattr(away.EmailMultiAlternatives, "send", lambda self: 1 / 0)
    run_passes()
    monkeypatch.undo()
    send(people["alice"], people["dm"], "hello?")
    email_after_the_delay()
    (email,) = mail.outbox
    assert "are you around?" in email.body and "hello?" in email.body


@pytest.mark.django_db(transaction=True)
def test_only_a_verified_address_gets_emails_where_addresses_are_verified(people, mailbox, settings):
    from allauth.account.models import EmailAddress

    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    address = EmailAddress.objects.create(user=people["bob"], email="bob@example.com", primary=True, verified=False)
    send(people["alice"], people["dm"], "are you around?")
    email_after_the_delay()
    assert mail.outbox == []
    address.verified = True
    address.save()
    send(people["alice"], people["dm"], "now?")
    email_after_the_delay()
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_the_email_speaks_the_persons_language(people, mailbox):
    from accounts.models import Profile

    Profile.objects.create(user=people["bob"], language="zh-hans")
    send(people["alice"], people["dm"], "在吗")
    email_after_the_delay()
    (email,) = mail.outbox
    assert "条消息" in email.subject and "在吗" in email.body


@pytest.mark.django_db(transaction=True)
def test_the_unsubscribe_link_turns_the_emails_off(people, mailbox):
    send(people["alice"], people["dm"], "are you around?")
    email_after_the_delay()
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>").removeprefix("https://chat.example")
    anonymous = Client(enforce_csrf_checks=True)
    assert "Stop these emails" in anonymous.get(link).content.decode()
    assert NotificationSettings.objects.get(user=people["bob"]).email_after == 10  # a GET changes nothing
    assert anonymous.post(link, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert NotificationSettings.objects.get(user=people["bob"]).email_after == 0
    assert anonymous.get(link[:-3] + "xyz/").status_code == 404
    send(people["alice"], people["dm"], "hello?")
    email_after_the_delay()
    assert len(mail.outbox) == 1


# ---- the settings page --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_settings_page_saves_keywords_email_delay_and_room_levels(people):
    send(people["alice"], people["dm"], "hi")  # a conversation is listed once someone wrote in it
    client = Client()
    client.force_login(people["bob"])
    page = client.get("/notifications/").content.decode()
    assert f'<label for="level-{people["general"].pk}">#General</label>' in page
    assert f'<label for="level-{people["dm"].pk}">alice</label>' in page
    form = {"keywords": "deploy,  outage ", "email_after": "30", f"level-{people['general'].pk}": "mentions"}
    response = client.post("/notifications/", form, follow=True)
    assert "Your notification settings are saved." in response.content.decode()
    prefs = NotificationSettings.objects.get(user=people["bob"])
    assert (prefs.keywords, prefs.email_after, prefs.sound) == ("deploy\noutage", 30, False)
    assert Membership.objects.get(user=people["bob"], room=people["general"]).involvement == "mentions"
    assert client.post("/notifications/", {"email_after": "5000"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_the_app_manifest_worker_and_offline_page(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert {icon["sizes"] for icon in manifest.json()["icons"]} == {"192x192", "512x512"}
    worker = client.get("/sw.js")
    assert worker["Content-Type"].startswith("text/javascript") and "/offline/" in worker.content.decode()
    assert "You are offline" in client.get("/offline/").content.decode()


def test_unsubscribe_tokens_are_signed():
    token = away.unsubscribe_token(42)
    assert away.unsubscribed_user(token) == 42
    assert away.unsubscribed_user(token[:-2] + "xx") is None
