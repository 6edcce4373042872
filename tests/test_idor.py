"""IDOR sweep: every URL the site serves and every socket route, tried by someone without access.

The sweeps walk the URL resolver and the socket routing, so a route added without being classified here
fails them. Admin URLs follow one rule, whatever the model: signed out or not staff, the admin login;
staff without the model's permissions, 403 or 404. For the site's own URLs the table below says what each
one risks and how it is probed: a person reaching a conversation or a message that is not theirs gets a 404
(signed out: the login page, which tells nothing about what exists).
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from channels.db import database_sync_to_async
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from rooms import protocol, services
from rooms.models import Membership, Message, Room
from rooms.routing import websocket_urlpatterns

from .helpers import closed_with, drain, frames_until, make_user, open_socket

SECRET = "between alice and bob only"
HIDDEN = "in the hideout only"  # bob's message in alice's private room
AMONG_THREE = "among alice, bob and dave only"  # bob's message in their group conversation


@dataclass
class World:
    alice: object
    bob: object
    carol: object  # signed in, in neither the conversation nor any room of note
    staff: object  # is_staff without a single permission
    general: object  # an open room
    dm: object  # alice and bob's conversation
    secret: object  # bob's message in it
    hideout: object  # alice's private room, bob in it
    hidden: object  # bob's message there
    group: object  # alice, bob and dave's group conversation
    gone: object  # a deleted message in the open room
    anonymous: Client
    as_carol: Client
    as_staff: Client
    as_alice: Client


@pytest.fixture
def world(transactional_db) -> World:
    alice, bob, carol = (make_user(n) for n in ("alice", "bob", "carol"))
    staff = make_user("sam", is_staff=True)
    general = services.create_room(alice, "General")
    dm = services.direct_room(alice, bob)
    secret = services.post_message(bob, dm.pk, SECRET, uuid.uuid4()).message
    gone = services.post_message(alice, general.pk, "said and unsaid", uuid.uuid4()).message
    services.delete_message(alice, gone.pk)
    hideout = services.create_room(alice, "Hideout", private=True)
    services.invite(alice, hideout, "bob")
    hidden = services.post_message(bob, hideout.pk, HIDDEN, uuid.uuid4()).message
    group = services.group_room(alice, [bob.pk, make_user("dave").pk])
    services.post_message(bob, group.pk, AMONG_THREE, uuid.uuid4())
    # Rows for the admin sweep to name (without one, a model's pages only say "does not exist").
    Group.objects.create(name="Night shift")
    EmailAddress.objects.create(user=alice, email=alice.email, primary=True, verified=True)
    clients = []
    for user in (carol, staff, alice):
        client = Client()
        client.force_login(user)
        clients.append(client)
    return World(alice, bob, carol, staff, general, dm, secret, hideout, hidden, group, gone, Client(), *clients)


def to_login(response, login: str = "/accounts/login/") -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith(login + "?next=")


def shows_nothing_of_the_dm(response, w: World) -> bool:
    """Nothing of alice and bob's conversation, alice's private room or the group conversation: not their
    text, not their lists, not their sidebar entries, not the private room's name."""
    content = response.content.decode()
    return not any(
        text in content
        for text in (SECRET, HIDDEN, AMONG_THREE, "Hideout", w.hideout.slug)
        for text in (text, *(f"messages-{r.pk}" for r in (w.dm, w.hideout, w.group)))
    ) and not any(f'id="{kind}-{r.pk}"' in content for kind in ("dm", "room") for r in (w.dm, w.hideout, w.group))


# ---- every URL -------------------------------------------------------------------------------------------


def url_patterns() -> list[tuple[str, str | None, URLPattern]]:
    """(route, namespaced name, pattern) for every URL the site serves."""

    def walk(patterns, prefix: str, namespace: str):
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = ":".join(filter(None, [namespace, p.namespace]))
                yield from walk(p.url_patterns, prefix + str(p.pattern), inner)
            else:
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                yield prefix + str(p.pattern), name, p

    return list(walk(get_resolver().url_patterns, "", ""))


def concrete(route: str, values: dict[str, object]) -> str:
    """The route with its parameters filled in, path converters and regex groups alike."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m[1]]), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), path)
    return "/" + path.replace("^", "").replace("$", "")


# The site's own URLs (allauth's included): name -> what is checked. Each probe asserts what a person sees.
def probe_index(w: World) -> None:
    assert to_login(w.anonymous.get("/"))
    assert shows_nothing_of_the_dm(w.as_carol.get("/"), w)


def probe_people(w: World) -> None:
    assert to_login(w.anonymous.get("/people/"))
    assert shows_nothing_of_the_dm(w.as_carol.get("/people/"), w)


def probe_switch(w: World) -> None:
    assert to_login(w.anonymous.get("/switch/", {"q": "a"}))
    for query in ("a", "b", "secret", str(w.dm.pk)):  # the quick switcher names rooms and people, never a DM's text
        assert shows_nothing_of_the_dm(w.as_carol.get("/switch/", {"q": query}, headers={"HX-Request": "true"}), w)


def probe_read_all(w: World) -> None:
    assert to_login(w.anonymous.post("/read-all/"))
    before = Membership.objects.filter(room=w.dm).values_list("user_id", "last_read_seq")
    marks = set(before)
    assert w.as_carol.post("/read-all/").status_code == 302  # her own read marks only
    assert set(Membership.objects.filter(room=w.dm).values_list("user_id", "last_read_seq")) == marks


def probe_room(w: World) -> None:
    assert to_login(w.anonymous.get("/rooms/general/"))
    assert w.as_carol.get("/rooms/general/").status_code == 200  # open rooms are open to everyone signed in
    assert w.as_carol.get("/rooms/no-such-room/").status_code == 404
    assert w.as_carol.get(f"/rooms/{w.dm.pk}/").status_code == 404  # a conversation is not a room
    private = f"/rooms/{w.hideout.slug}/"
    for outsider in (w.as_carol, w.as_staff):  # a private room is not there for anyone else
        assert outsider.get(private).status_code == 404
    assert HIDDEN in w.as_alice.get(private).content.decode()  # hers: the probe reaches it


def probe_join(w: World) -> None:
    assert to_login(w.anonymous.post("/rooms/general/join/"))
    assert w.as_carol.get("/rooms/general/join/").status_code == 405  # joining is a POST, never a look
    assert w.as_carol.post(f"/rooms/{w.dm.pk}/join/").status_code == 404  # a conversation is not a room
    assert w.as_carol.post("/rooms/no-such-room/join/").status_code == 404
    assert w.as_carol.post(f"/rooms/{w.hideout.slug}/join/").status_code == 404  # private: by invitation only
    assert w.as_carol.post("/rooms/general/join/").status_code == 302  # open rooms are open to everyone
    assert not Membership.objects.filter(room__in=[w.dm, w.hideout, w.group], user=w.carol).exists()


def probe_group(w: World) -> None:
    page = f"/g/{w.group.pk}/"
    assert to_login(w.anonymous.get(page))
    for outsider in (w.as_carol, w.as_staff):
        assert outsider.get(page).status_code == 404
    assert w.as_carol.get(f"/g/{w.dm.pk}/").status_code == 404
    assert AMONG_THREE in w.as_alice.get(page).content.decode()


def probe_start_group(w: World) -> None:
    ids = [w.alice.pk, w.bob.pk]
    assert to_login(w.anonymous.post("/groups/new/", {"people": ids}))
    assert w.as_carol.get("/groups/new/").status_code == 405  # starting one is a POST
    started = w.as_carol.post("/groups/new/", {"people": ids})  # hers with them: a new one, not alice's
    assert started.status_code == 302 and started.headers["Location"] != f"/g/{w.group.pk}/"
    assert shows_nothing_of_the_dm(w.as_carol.get(started.headers["Location"]), w)
    # "Add someone" on a group of one's own starts with its people ticked; on someone else's, with nobody.
    assert "checked" not in w.as_carol.get("/people/", {"with": w.group.pk}).content.decode()
    assert w.as_alice.get("/people/", {"with": w.group.pk}).content.decode().count(" checked") == 2


def refused_post(w: World, path: str, data: dict | None = None) -> None:
    """Signed out: the login page; carol and staff, outside the room or conversation: 404, nothing changed."""
    assert to_login(w.anonymous.post(path, data or {}))
    before = snapshot(w)
    for outsider in (w.as_carol, w.as_staff):
        assert outsider.get(path).status_code in {404, 405}
        assert outsider.post(path, data or {}).status_code == 404, path
    assert snapshot(w) == before, path


def probe_leave(w: World) -> None:
    for room in (w.hideout, w.dm, w.group):
        refused_post(w, f"/rooms/{room.pk}/leave/")


def probe_invite(w: World) -> None:
    for room in (w.hideout, w.dm, w.group):
        refused_post(w, f"/rooms/{room.pk}/invite/", {"username": "carol"})
    w.as_carol.post(f"/rooms/{w.general.pk}/invite/", {"username": "bob"})  # an open room: anyone's to share


def probe_remove_member(w: World) -> None:
    for room in (w.hideout, w.dm, w.group):
        refused_post(w, f"/rooms/{room.pk}/members/{w.bob.pk}/remove/")
    # In an open room she reads but did not create: refused, with the reason, and alice stays.
    assert w.as_carol.post(f"/rooms/{w.general.pk}/members/{w.alice.pk}/remove/").status_code == 302
    assert Membership.objects.filter(room=w.general, user=w.alice).exists()


def probe_involvement(w: World) -> None:
    for room in (w.hideout, w.dm, w.group):
        refused_post(w, f"/rooms/{room.pk}/involvement/", {"level": "nothing"})


def probe_settings(w: World) -> None:
    for room in (w.hideout, w.dm, w.group):
        refused_post(w, f"/rooms/{room.pk}/settings/", {"name": "Taken over"})
    assert w.as_carol.get(f"/rooms/{w.general.pk}/settings/").status_code == 404  # not hers to change
    assert w.as_carol.post(f"/rooms/{w.general.pk}/settings/", {"archive": "1"}).status_code == 404
    assert w.as_alice.get(f"/rooms/{w.hideout.pk}/settings/").status_code == 200  # hers: the probe reaches it


def probe_history(w: World) -> None:
    dm_history = f"/rooms/{w.dm.pk}/history/"
    assert to_login(w.anonymous.get(dm_history, {"before": 100}))
    for query in ({"before": 100}, {"after": 0}):
        for room, text in ((w.dm, SECRET), (w.hideout, HIDDEN), (w.group, AMONG_THREE)):
            history = f"/rooms/{room.pk}/history/"
            assert w.as_carol.get(history, query).status_code == 404
            assert w.as_staff.get(history, query).status_code == 404  # staff is no one special here
            assert text in w.as_alice.get(history, query).content.decode()  # hers: the probe reaches it
    assert w.as_alice.get("/rooms/999999/history/", {"before": 1}).status_code == 404


def probe_direct(w: World) -> None:
    assert to_login(w.anonymous.get("/dm/bob/"))
    # /dm/bob/ is always *your* conversation with bob: for carol, hers, never alice's.
    page = w.as_carol.get("/dm/bob/")
    assert page.status_code == 200 and shows_nothing_of_the_dm(page, w)
    assert w.as_carol.get("/dm/no-such-person/").status_code == 404
    assert SECRET in w.as_alice.get("/dm/bob/").content.decode()


def probe_permalink(w: World) -> None:
    link = f"/m/{w.secret.pk}/"
    assert to_login(w.anonymous.get(link))
    assert w.as_carol.get(link).status_code == 404
    assert w.as_staff.get(link).status_code == 404
    assert w.as_alice.get(link).headers["Location"] == f"/dm/bob/?around={w.secret.seq}#msg-{w.secret.pk}"
    for outsider in (w.as_carol, w.as_staff):
        assert outsider.get(f"/m/{w.hidden.pk}/").status_code == 404
    assert w.as_alice.get(f"/m/{w.hidden.pk}/").headers["Location"].startswith(f"/rooms/{w.hideout.slug}/?around=")
    assert w.as_alice.get(f"/m/{w.gone.pk}/").status_code == 404  # deleted: gone for its author too
    assert w.as_alice.get("/m/999999/").status_code == 404


def probe_source(w: World) -> None:
    link = f"/m/{w.secret.pk}/source/"
    assert to_login(w.anonymous.get(link))
    for outsider in (w.as_carol, w.as_staff):
        assert outsider.get(link).status_code == 404
    assert w.as_alice.get(link).status_code == 404  # in the conversation, but only its author edits it
    as_bob = Client()
    as_bob.force_login(w.bob)
    assert as_bob.get(link).json() == {"body": SECRET}
    assert w.as_alice.get(f"/m/{w.gone.pk}/source/").status_code == 404  # deleted: gone for its author too


def probe_link_image(w: World) -> None:
    from rooms.models import LinkPreview
    from rooms.previews import thumbnail

    from .support.linked_site import picture

    card = LinkPreview.objects.create(
        message=w.secret, url="https://example.com/", title="t", image=thumbnail(picture())[0]
    )
    link = f"/link-previews/{card.pk}/image/"
    assert to_login(w.anonymous.get(link))
    for outsider in (w.as_carol, w.as_staff):
        assert outsider.get(link).status_code == 404
    assert w.as_alice.get(link)["Content-Type"] == "image/webp"  # in the conversation: the probe reaches it
    assert w.as_alice.get(f"/link-previews/{card.pk + 1}/image/").status_code == 404
    card.delete()


def probe_files(w: World) -> None:
    """A file in the conversation, a thumbnail, and an upload of alice's not sent yet: nobody else has any."""
    import tempfile

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import override_settings

    from rooms import services

    from .support.linked_site import picture

    with tempfile.TemporaryDirectory() as root:
        files = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}}
        with override_settings(STORAGES={**settings.STORAGES, "files": files}):
            sent, _ = services.upload(w.alice, w.dm.pk, SimpleUploadedFile("dm.png", picture()))
            services.post_message(w.alice, w.dm.pk, "", uuid.uuid4(), files=[sent.pk])
            services.files.make_thumbnail.call(sent.pk)
            unsent, _ = services.upload(w.alice, w.hideout.pk, SimpleUploadedFile("draft.txt", b"draft"))
            links = [f"/files/{sent.pk}/dm.png", f"/files/{sent.pk}/thumbnail/", f"/files/{unsent.pk}/draft.txt"]
            for link in links:
                assert to_login(w.anonymous.get(link))
                for outsider in (w.as_carol, w.as_staff):
                    assert outsider.get(link).status_code == 404, link
                assert w.as_alice.get(link).status_code == 200  # hers: the probe reaches it
            for room in (w.hideout, w.dm, w.group):
                refused_post(w, f"/rooms/{room.pk}/files/")
            for outsider in (w.as_carol, w.as_staff):  # taking back someone else's upload: nothing happens
                outsider.post(f"/files/{unsent.pk}/discard/")
            assert w.as_alice.get(links[2]).status_code == 200
            assert to_login(w.anonymous.post(f"/files/{unsent.pk}/discard/"))
            services.discard_upload(w.alice, unsent.pk)
            services.delete_message(w.alice, Message.objects.get(attachments=sent).pk)
            assert w.as_alice.get(links[0]).status_code == 404  # removed: gone for its author too


def probe_emoji(w: World) -> None:
    assert to_login(w.anonymous.get("/emoji/", {"q": "smile"}))
    assert {"insert": "😄", "label": "😄 :smile:"} in w.as_carol.get("/emoji/", {"q": "smile"}).json()["suggestions"]


def probe_mentionable(w: World) -> None:
    link = f"/rooms/{w.dm.pk}/mentionable/"
    assert to_login(w.anonymous.get(link, {"q": "b"}))
    for outsider in (w.as_carol, w.as_staff):  # who is in alice and bob's conversation is theirs to know
        for room in (w.dm, w.hideout, w.group):
            assert outsider.get(f"/rooms/{room.pk}/mentionable/", {"q": "b"}).status_code == 404
    assert w.as_alice.get(link, {"q": "b"}).json()["suggestions"][0]["insert"] == "@bob"
    assert w.as_alice.get("/rooms/999999/mentionable/").status_code == 404


def probe_mentions(w: World) -> None:
    services.post_message(w.bob, w.dm.pk, "@alice private", uuid.uuid4())
    assert to_login(w.anonymous.get("/mentions/"))
    for outsider in (w.as_carol, w.as_staff):  # only one's own mentions, and only where one can read
        assert "@alice private" not in outsider.get("/mentions/").content.decode()
    assert "private" in w.as_alice.get("/mentions/").content.decode()


def probe_notifications(w: World) -> None:
    """The settings page shows one's own rooms and devices; a device is removed, and tested, by its owner only."""
    from rooms.models import PushSubscription

    device, _ = PushSubscription.objects.get_or_create(  # once for the four URLs of this probe
        user=w.alice, endpoint="https://fcm.googleapis.com/fcm/send/alices", p256dh="B" * 87, auth="A" * 22,
        device="Alice phone", language="en",
    )  # fmt: skip
    assert to_login(w.anonymous.get("/notifications/"))
    for outsider in (w.as_carol, w.as_staff):
        page = outsider.get("/notifications/")
        assert shows_nothing_of_the_dm(page, w) and "Alice phone" not in page.content.decode()
        assert HIDDEN not in page.content.decode() and "Hideout" not in page.content.decode()
        outsider.post("/notifications/devices/forget/", {"device": device.pk})
        outsider.post("/notifications/devices/forget/", {"endpoint": device.endpoint})
        outsider.post("/notifications/", {f"level-{w.dm.pk}": "nothing", "email_after": "10"})
    assert PushSubscription.objects.filter(pk=device.pk).exists()
    assert Membership.objects.get(room=w.dm, user=w.alice).involvement == "everything"
    for path in ("/notifications/devices/", "/notifications/devices/forget/", "/notifications/test/"):
        assert to_login(w.anonymous.post(path))
    assert "Alice phone" in w.as_alice.get("/notifications/").content.decode()


def probe_search(w: World) -> None:
    assert to_login(w.anonymous.get("/search/", {"q": "between"}))
    # Every way to name alice and bob's conversation: its words, its people, its room. Highlighting splits the
    # text with <mark>, so the page is read without it.
    for query in ("between", "bob only", '"alice and bob"', "from:bob", "from:bob between", "in:@bob", "in:@alice"):
        for outsider in (w.as_carol, w.as_staff):
            page = outsider.get("/search/", {"q": query})
            assert page.status_code == 200 and shows_nothing_of_the_dm(page, w), query
            assert "alice and bob only" not in re.sub(r"</?mark>", "", page.content.decode()), query
    hers = w.as_alice.get("/search/", {"q": "between"}).content.decode()
    assert "alice and bob only" in re.sub(r"</?mark>", "", hers)  # in her conversation: the probe reaches it


def probe_person_card(w: World) -> None:
    assert to_login(w.anonymous.get("/people/alice/card/"))
    card = w.as_carol.get("/people/alice/card/")  # what everyone signed in sees of her (as People lists her)
    assert card.status_code == 200 and shows_nothing_of_the_dm(card, w)
    assert w.as_carol.get("/people/no-such-person/card/").status_code == 404


def probe_media(w: World) -> None:
    # Uploaded pictures, served in development: only files under MEDIA_ROOT, under their random names.
    assert w.anonymous.get("/media/avatars/no-such-picture.webp").status_code == 404
    assert w.as_carol.get("/media/../chatsite/settings.py").status_code in {400, 404}
    assert w.as_carol.get("/media/%2e%2e/db.sqlite3").status_code in {400, 404}


SITE: dict[str, Callable[[World], None]] = {
    "rooms:index": probe_index,
    "rooms:people": probe_people,
    "rooms:switch": probe_switch,
    "rooms:read_all": probe_read_all,
    "rooms:room": probe_room,
    "rooms:history": probe_history,
    "rooms:direct": probe_direct,
    "rooms:join": probe_join,
    "rooms:group": probe_group,
    "rooms:start_group": probe_start_group,
    "rooms:leave": probe_leave,
    "rooms:invite": probe_invite,
    "rooms:remove_member": probe_remove_member,
    "rooms:involvement": probe_involvement,
    "rooms:settings": probe_settings,
    "rooms:permalink": probe_permalink,
    "rooms:source": probe_source,
    "rooms:emoji": probe_emoji,
    "rooms:mentionable": probe_mentionable,
    "rooms:mentions": probe_mentions,
    "rooms:link_image": probe_link_image,
    "rooms:upload": probe_files,
    "rooms:discard_upload": probe_files,
    "rooms:file": probe_files,
    "rooms:thumbnail": probe_files,
    "rooms:search": probe_search,
    "rooms:notifications": probe_notifications,
    "rooms:subscribe": probe_notifications,
    "rooms:forget_device": probe_notifications,
    "rooms:test_notification": probe_notifications,
    "person_card": probe_person_card,
    "media": probe_media,
}
# allauth's pages hold nothing of anyone else: the signed-out ones are public by design (their links carry a
# key that is checked), the rest want a login and show only the person's own account.
PUBLIC = {
    "account_login",
    "account_logout",
    "account_signup",
    "account_inactive",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_confirm_login_code",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "mfa_authenticate",  # the second step of signing in: it holds the half-signed-in person's own state only
    "set_language",  # the language menu: a cookie for signed-out pages, the account's choice when signed in
    "rooms:unsubscribe",  # the away email's link: its signed token names the account, and only turns emails off
    "rooms:service_worker",  # the app's own script, manifest and offline page: the same for everyone
    "rooms:manifest",
    "rooms:offline",
}
OWN_ACCOUNT = {
    "account_email",
    "account_change_password",
    "account_set_password",
    "account_reauthenticate",
    "account_request_reauthentication_code",
    "account_confirm_reauthentication_code",
    "account_security",
    "usersessions_list",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_reauthenticate",
    "account_settings",
    "account_preferences",
    "account_detected_time_zone",
}
BOGUS = {"key": "bogus-key", "uidb36": "0", "token": "bogus-token"}  # parameters of allauth's emailed links


def test_every_site_url_is_probed(world):
    unclassified = []
    for route, name, pattern in url_patterns():
        if route.startswith("admin/"):
            continue
        if name in SITE:
            SITE[name](world)
        elif name in PUBLIC or name in OWN_ACCOUNT:
            path = concrete(route, BOGUS)
            assert resolve(path).func == pattern.callback, path
            signed_out = world.anonymous.get(path)
            if name in OWN_ACCOUNT:
                assert to_login(signed_out), path
            else:
                assert signed_out.status_code in {200, 302, 404}, path
            signed_in = world.as_carol.get(path)
            assert signed_in.status_code < 500 and shows_nothing_of_the_dm(signed_in, world), path
        else:
            unclassified.append(f"{route} ({name})")
    assert unclassified == [], "classify these URLs in tests/test_idor.py"


# ---- every admin URL -------------------------------------------------------------------------------------

# What staff without any permission may open: the admin's front page (which lists nothing) and their own
# password, the admin's translations, and its login page.
STAFF_OWN = {"admin:index", "admin:password_change", "admin:password_change_done", "admin:jsi18n", "admin:login"}


def admin_samples(route: str, w: World) -> dict[str, object]:
    """Parameter values for an admin URL, naming the most private object of its model (the DM, its message),
    or any (a model without rows yet: an id that does not exist)."""
    pk = w.dm.pk
    for model in admin.site._registry:
        if route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            private = {"rooms.room": w.dm, "rooms.message": w.secret, "auth.user": w.alice}.get(model._meta.label_lower)
            obj = private or model._default_manager.order_by("pk").first()
            pk = obj.pk if obj else 1
    rooms_ct = apps.get_model("contenttypes", "ContentType").objects.get_for_model(w.dm)
    # Any other parameter (object_id, id, a custom view's own) names the object.
    return defaultdict(lambda: pk, {"app_label": "rooms", "url": "no-such-page/", "content_type_id": rooms_ct.pk})


def test_every_admin_url_refuses_whoever_lacks_the_right(world):
    checked = 0
    for route, name, pattern in url_patterns():
        if not route.startswith("admin/") or name == "admin:logout":  # logout: POST only (405 to a GET)
            continue
        path = concrete(route, admin_samples(route, world))
        assert resolve(path).func == pattern.callback, path
        if name != "admin:login":
            for client in (world.anonymous, world.as_carol):  # signed out, or signed in but not staff
                assert to_login(client.get(path), "/admin/login/"), path
        response = world.as_staff.get(path)
        if name in STAFF_OWN:
            assert response.status_code in {200, 302}, path
            assert SECRET not in response.content.decode()
        elif response.status_code == 302:
            # To the front page: Django's "does not exist" (an object the admin does not show, e.g. a DM's
            # message); elsewhere (/admin/rooms/room/<id>/ -> its change page), refused there.
            target = response.headers["Location"]
            assert target == "/admin/" or world.as_staff.get(target).status_code in {403, 404}, path
        else:
            assert response.status_code in {403, 404}, (path, response.status_code)
        checked += 1
    front = world.as_staff.get("/admin/").content.decode()
    assert "have permission to view or edit anything" in front
    # Objects the admin does show are refused by permission, not by luck.
    for obj in (world.general, world.gone, world.alice):
        opts = obj._meta
        assert world.as_staff.get(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/").status_code == 403
    assert checked > 20  # every registered model's pages were among them


# ---- every socket route, and frames about what a person cannot see ---------------------------------------


async def refused(user, path: str) -> int:
    comm, connected = await open_socket(user, path)
    assert connected  # accepted, then closed with a final code: the page does not retry
    return await closed_with(comm)


async def probe_socket_any_page(w: World) -> None:
    assert await refused(None, "/ws/") == 4401


async def probe_socket_room(w: World) -> None:
    assert await refused(None, f"/ws/rooms/{w.general.pk}/") == 4401
    assert await refused(w.carol, f"/ws/rooms/{w.dm.pk}/") == 4404
    assert await refused(w.staff, f"/ws/rooms/{w.dm.pk}/") == 4404
    for room in (w.hideout, w.group):
        assert await refused(w.carol, f"/ws/rooms/{room.pk}/") == 4404
    assert await refused(w.carol, "/ws/rooms/999999/") == 4404
    alice, _ = await open_socket(w.alice, f"/ws/rooms/{w.dm.pk}/")  # hers: the same route serves her
    await alice.send_to(text_data=json.dumps({"action": "catch_up", "after": 0}))
    await frames_until(alice, SECRET)
    await alice.disconnect()


async def probe_socket_unknown_path(w: World) -> None:
    # Before and after authentication alike: a final "not found", not a server error (and no retrying).
    for path in ("/ws/rooms/-1/", "/ws/rooms/general/", "/ws/nope/", "/ws", "/admin/"):
        assert await refused(None, path) == 4404, path
        assert await refused(w.alice, path) == 4404, path


SOCKETS = {
    "ws/": probe_socket_any_page,
    "ws/rooms/<int:room_id>/": probe_socket_room,
    "": probe_socket_unknown_path,
}


@pytest.mark.asyncio
@pytest.mark.redis
async def test_every_socket_route_is_probed(world):
    routes = [str(p.pattern) for p in websocket_urlpatterns]
    assert set(routes) == set(SOCKETS), "classify the new socket route in tests/test_idor.py"
    for route in routes:
        await SOCKETS[route](world)


# Frame actions that name a message by id, and those that act on the socket's own room only.
ABOUT_A_MESSAGE = {"edit", "delete", "report", "react"}
ABOUT_ITS_ROOM = {"send", "typing", "read", "catch_up", "visibility"}


def snapshot(w: World) -> dict:
    """Row counts of every table, and the conversation's messages and memberships as they are."""
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    dm_messages = list(Message.objects.filter(room=w.dm).values())
    dm_members = list(Membership.objects.filter(room__in=[w.dm, w.hideout, w.group]).order_by("pk").values())
    rooms = list(Room.objects.filter(pk__in=[r.pk for r in (w.dm, w.hideout, w.group)]).order_by("pk").values())
    return {"counts": counts, "dm": (dm_messages, dm_members, rooms)}


@pytest.mark.asyncio
@pytest.mark.redis
async def test_frames_about_a_conversation_she_cannot_see_change_nothing(world, settings):
    settings.SEND_RATE = settings.CATCH_UP_RATE = settings.FRAME_RATE = 0  # many frames at once: not under test
    actions = frozenset(protocol.ACTIONS)
    assert actions <= ABOUT_A_MESSAGE | ABOUT_ITS_ROOM, "classify the new frame action in tests/test_idor.py"
    carol, _ = await open_socket(world.carol, f"/ws/rooms/{world.general.pk}/")
    take = database_sync_to_async(snapshot)
    for action in sorted(actions):
        for message in (world.secret, world.hidden, world.gone):  # in a conversation, a private room; deleted
            before = await take(world)
            frame = {
                "action": action,
                "message_id": message.pk,
                "room_id": world.dm.pk,  # not a field of any frame: the socket's room is the one it opened
                "body": "carol was here",
                "reason": "spam",
                "seq": 10**6,
                "after": 0,
                "emoji": "👍",
                "add": 1,
                "reply_to": message.pk,  # a send answering a message not hers to see
                "files": "",  # someone else's files: tests/test_files.py
                "visible": 0,
                "client_id": str(uuid.uuid4()),
            }
            assert set(protocol.ACTIONS[action].payload) <= frame.keys(), f"give {action}'s fields here"
            await carol.send_to(text_data=json.dumps(frame))
            # Typing and read frames get no answer: a catch-up after the frame shows it was handled.
            await carol.send_to(text_data=json.dumps({"action": "catch_up", "after": 10**6}))
            replies = await frames_until(carol, 'data-upto="')
            if action == "catch_up":  # that was its own answer; the marker's comes next
                replies += await frames_until(carol, 'data-upto="')
            replies += await drain(carol, quiet=0.2)
            assert not any(
                text in r for r in replies for text in (SECRET, HIDDEN, f"messages-{world.dm.pk}", "Hideout")
            ), action
            after = await take(world)
            assert after["dm"] == before["dm"], action  # the conversation is untouched
            if action in ABOUT_A_MESSAGE:
                assert "That message no longer exists." in "".join(replies), action
                assert after["counts"] == before["counts"], action  # nothing recorded (no report either)
            elif action == "send" and message.room_id != world.general.pk:
                # An answer to a message of another room: refused, quoting nothing of it.
                assert "The message you are replying to no longer exists." in "".join(replies)
                assert after["counts"] == before["counts"], action
            elif action == "send":  # her own room's removed message: the reply goes (its quote says deleted)
                stored = await database_sync_to_async(Message.objects.filter(author=world.carol).latest)("pk")
                assert (stored.room_id, stored.reply_to_id) == (world.general.pk, message.pk)
            else:
                assert after["counts"] == before["counts"], action
    await carol.disconnect()


def test_the_services_refuse_a_conversation_she_cannot_see_whoever_calls_them(world):
    """Behind the socket's own check (its page's room, at connect), each service asks again: a caller that
    named the conversation directly still gets nothing of it."""
    refused = {
        "catch-up": lambda: services.catch_up_frame(world.carol, world.dm.pk, 0),
        "send": lambda: services.post_message(world.carol, world.dm.pk, "carol was here", uuid.uuid4()),
        "edit": lambda: services.edit_message(world.carol, world.secret.pk, "carol was here"),
        "delete": lambda: services.delete_message(world.carol, world.secret.pk),
        "react": lambda: services.react(world.carol, world.secret.pk, "👍", True),
        "catch-up, private room": lambda: services.catch_up_frame(world.carol, world.hideout.pk, 0),
        "send, private room": lambda: services.post_message(world.carol, world.hideout.pk, "hi", uuid.uuid4()),
        "react, private room": lambda: services.react(world.carol, world.hidden.pk, "👍", True),
        "send, group": lambda: services.post_message(world.carol, world.group.pk, "hi", uuid.uuid4()),
        "invite herself": lambda: services.invite(world.carol, world.hideout, "carol"),
        "leave for bob": lambda: services.remove_member(world.carol, world.hideout, world.bob.pk),
        "rename": lambda: services.update_settings(world.carol, world.hideout, "Mine", "", ""),
        "make it open": lambda: services.set_private(world.carol, world.hideout, False),
        "archive": lambda: services.set_archived(world.carol, world.hideout, True),
    }
    for name, call in refused.items():
        with pytest.raises(services.ChatError):
            call()
            pytest.fail(name)
    assert not Message.objects.filter(author=world.carol).exists()
    assert Message.objects.get(pk=world.secret.pk).body == SECRET
