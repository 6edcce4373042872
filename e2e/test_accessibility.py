"""Every page passes axe-core (e2e/axe.py: WCAG 2.0/2.1 A and AA, and best practices) in light and dark, on a
desktop (1280x800) and a phone (390x844): each test is one page in one look, and fails listing what axe found.

The pages hold what a person really sees: a room with messages from several people (one's own, an edited one,
a long one, a formatted one with coloured code and its link's card), a conversation, the unread divider, a form
with its error, the moderator's report queue. The theme is the browser's (Playwright's color_scheme); a few pages
are checked in the account's theme over the browser's opposite one too.

People are signed in with a session cookie (Django's force_login): the log-in form is a page checked here
itself, and going through it for each of the ~90 tests would double the time they take. For the same reason
the scene is built once for the module (pages only look; what looking changes is put back before each test).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Error, Page, expect

from .axe import assert_accessible, axe_source, inject
from .conftest import LiveServer, _make_user, in_thread, instrument, live_daphne, shared_scene
from .support import message_action, wait_for_socket

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
LONG = " ".join(["A long message that wraps over many lines on a phone and on a desktop alike."] * 12)
# Every kind of formatting, code in colour included: its contrast is checked in both themes.
FORMATTED = (
    "**Agenda** _draft_ ~~old~~ `call()` at https://example.com/plan :tada:\n> quoted\n\n- one\n- two\n\n"
    '```python\ndef plan(items: list[str]) -> int:\n    # count them\n    return len(items) + 1  # "one more"\n```'
)
MISSING = "/rooms/no-such-room/"
pytestmark = pytest.mark.shared_scene


@pytest.fixture(scope="module")
def debug_off_server(django_db_blocker) -> Iterator[LiveServer]:
    """The site with DEBUG off, as in production (over plain HTTP, as the session's server): only then does
    Django send 404.html; with DEBUG on it shows its own debug page. Started only if a test asks for it."""
    env = {"DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false"}
    with live_daphne(django_db_blocker, env) as server:
        yield server


@dataclass(frozen=True)
class Scene:
    """How a test opens pages: in its look, on the session's server, signed in or not."""

    look: dict
    new_context: Callable[..., object]
    base_url: str
    request: pytest.FixtureRequest

    def page(self, username: str | None = "alice") -> Page:
        """A page in a fresh context in the test's look, signed in as `username` (None: signed out)."""
        context = self.new_context(**self.look)
        instrument(context)
        if username:
            cookie = in_thread(session_cookie, username)
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": self.base_url}])
        return context.new_page()

    def server(self) -> LiveServer:
        return self.request.getfixturevalue("debug_off_server")


def session_cookie(username: str) -> str:
    """A signed-in session, made as a log-in makes it (allauth records it for the sessions page)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client.cookies["sessionid"].value


def build_scene() -> None:
    """Rooms, messages, a conversation, unread messages, a moderator and a report, through the services.
    One thread (and database connection) for all of it: in_thread per call costs a connection each."""
    from moderation import services as moderation
    from rooms import services
    from rooms.models import Membership

    alice, bob, carol, mod = (_make_user(name) for name in ("alice", "bob", "carol", "mod"))

    def post(user, room, body: str):
        return services.post_message(user, room.pk, body, uuid.uuid4()).message

    general = services.create_room(alice, "General", "Everything, and the weekly plan")
    for person in (bob, carol):
        services.join(person, general)
    morning = post(bob, general, "Morning! Who's in for the planning call?")
    own = services.post_message(alice, general.pk, "Me, in ten minutes.", uuid.uuid4(), reply_to=morning.pk).message
    services.edit_message(alice, own.pk, "Me, in five minutes.")
    post(carol, general, LONG)
    spam = post(carol, general, "Buy followers, cheap!")
    attach_card(post(bob, general, FORMATTED))
    share(bob, general, "The whiteboard, and the notes", ("board.png", "wall.jpg", "notes.pdf"))
    share(carol, general, "", ("standup.mp4", "voice-note.mp3"))  # files alone: played in the message
    post(carol, general, "@alice can you share the agenda?")  # a mention: highlighted for alice
    last = post(bob, general, "Great, see you there.")
    services.mark_read(alice, general.pk, last.seq)
    for person, emoji in ((carol, "🎉"), (alice, "🎉"), (bob, "👍")):  # reactions, one of them hers (pressed)
        services.react(person, last.pk, emoji, True)
    moderation.report_message(bob, spam.pk, "Spam")

    # Lobby: alice has read the first two; the rest is new to her (the divider sits above it).
    lobby = services.create_room(bob, "Lobby", "Say hello")
    services.join(alice, lobby)
    post(bob, lobby, "Welcome to the lobby.")
    read = post(alice, lobby, "Thanks!")
    services.mark_read(alice, lobby.pk, read.seq)
    post(carol, lobby, "Hello both.")
    post(bob, lobby, "Release notes are out, @alice.")  # unread, and a mention: the sidebar's badge
    for name in ("Design", "Random", "Support"):
        services.create_room(carol, name, f"About {name.lower()}")
    dm = services.start_direct(bob, alice, "Are you around later?", uuid.uuid4())
    post(alice, dm, "Yes, after five.")
    hideout = services.create_room(alice, "Hideout", "Plans nobody else sees yet", private=True)
    services.invite(alice, hideout, "bob")
    post(bob, hideout, "Only the two of us here.")
    services.set_involvement(alice, lobby.pk, "nothing")  # a muted room in her sidebar: greyed
    group = services.group_room(alice, [bob.pk, carol.pk])
    post(carol, group, "A group of three.")
    make_moderator(mod)
    add_devices(alice)
    READ_MARKS[:] = Membership.objects.values_list("pk", "last_read_seq")


def add_devices(user) -> None:
    """Two devices on the Notifications page: one whose last push was delivered, one whose service refused it."""
    from django.utils import timezone

    from rooms.models import PushSubscription

    for n, (device, status) in enumerate([("Chrome on Android", 201), ("Firefox on Linux", 500)]):
        PushSubscription.objects.create(
            user=user, endpoint=f"https://fcm.googleapis.com/fcm/send/device{n}", p256dh="B" * 87, auth="A" * 22,
            device=device, language="en", last_sent_at=timezone.now(), last_status=status,
        )  # fmt: skip


def attach_card(message) -> None:
    """The card the worker would make for the message's link (https://example.com/plan), with a picture."""
    from rooms.previews import Card, thumbnail
    from rooms.services import previews
    from tests.support.linked_site import picture

    image, width, height = thumbnail(picture(1200, 630))
    about = "What we ship this week, who does what, and when we meet to go over it."
    card = Card("The weekly plan", about, "Example", image, width, height, "The plan on a whiteboard")
    assert previews.attach(message.pk, "https://example.com/plan", card) is not None


def share(user, room, caption: str, names: tuple[str, ...]) -> None:
    """A message with files, as the page sends it, and the pictures' thumbnails as the worker makes them."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rooms import services
    from tests.support.linked_site import picture

    contents = {
        "png": picture(480, 320), "jpg": picture(240, 360, "JPEG"), "pdf": b"%PDF-1.4\n%plan\n",
        "mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64),
        "mp3": b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16,
    }  # fmt: skip
    ids = []
    for name in names:
        data = contents[name.rpartition(".")[2]]
        attachment, _ = services.upload(user, room.pk, SimpleUploadedFile(name, data))
        ids.append(attachment.pk)
    services.post_message(user, room.pk, caption, uuid.uuid4(), files=ids)
    for pk in ids:
        services.files.make_thumbnail.call(pk)


def make_moderator(user) -> None:
    """Staff in the Moderators group (the migration's, made again: each test's flush emptied the tables)."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    migration = importlib.import_module("moderation.migrations.0002_moderators_group")
    migration.create_moderators_group(apps, None)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=migration.GROUP))


def at(path: str, username: str | None = "alice") -> Callable[[Scene], Page]:
    def open_page(scene: Scene) -> Page:
        page = scene.page(username)
        page.goto(path)
        return page

    return open_page


def unsubscribe_link(scene: Scene) -> Page:
    """The away email's link, opened signed out (from a mail client)."""
    from django.contrib.auth import get_user_model

    from rooms.notify.away import unsubscribe_token

    user = in_thread(lambda: get_user_model().objects.get(username="alice"))
    return at(f"/notifications/unsubscribe/{unsubscribe_token(user.pk)}/", None)(scene)


def create_room_with_an_error(scene: Scene) -> Page:
    page = at("/")(scene)
    form = page.locator("form", has=page.get_by_role("button", name="Create room"))
    form.get_by_label("Name").fill("General")  # taken
    form.get_by_role("button", name="Create room").click()
    expect(form.locator(".errorlist")).to_be_visible()
    return page


def in_room(act: Callable[[Page], None]) -> Callable[[Scene], Page]:
    """The room page after a person did something on it: what opens (menus, dialogs) is checked as it shows."""

    def open_page(scene: Scene) -> Page:
        page = at("/rooms/general/")(scene)
        wait_for_socket(page)
        act(page)
        return page

    return open_page


def write_with_help(page: Page) -> None:
    message_action(page, page.locator(".message", has_text="Great, see you there."), "Reply")
    expect(page.locator("#composer-reply")).to_be_visible()
    page.get_by_text("Formatting", exact=True).click()
    page.locator("#composer textarea").press_sequentially("Done :ta")
    expect(page.get_by_role("listbox", name="Emoji").get_by_role("option").first).to_be_visible()


def open_message_menu(page: Page) -> None:
    message = page.locator(".message", has_text="Me, in five minutes.")
    message.hover()
    message.locator(".menu-toggle").click()
    expect(message.locator(".menu-toggle")).to_have_attribute("aria-expanded", "true")


def edit_own_message(page: Page) -> None:
    open_message_menu(page)
    page.locator(".message", has_text="Me, in five minutes.").get_by_role("menuitem", name="Edit").click()
    expect(page.locator(".message form textarea")).to_be_visible()


def open_reaction_picker(page: Page) -> None:
    message = page.locator(".message", has_text="Great, see you there.")
    message.hover()
    message.locator(".reaction-add").click()
    picker = page.get_by_role("dialog", name="Add reaction")
    picker.get_by_role("searchbox").fill("party")
    expect(picker.locator(".picker-results .picker-emoji").first).to_be_visible()


def open_lightbox(page: Page) -> None:
    page.locator(".attachment-image").first.click()
    expect(page.get_by_role("dialog", name="Picture").locator("img")).to_have_js_property("complete", True)


def refused_upload(page: Page) -> None:
    """The composer holding an uploaded file and one refused (too large), with the reason."""
    answer = {"id": 1, "name": "slides.pdf", "size": "8\xa0bytes", "notice": ""}
    page.route(re.compile(r"/rooms/\d+/files/$"), lambda route: route.fulfill(status=201, json=answer))
    page.locator("#composer-file-input").set_input_files(
        [{"name": "slides.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    page.locator("#composer textarea").evaluate(  # larger than the limit: refused before it is sent
        """(box) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(26 * 1024 * 1024)], "big.bin"));
            box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
        }"""
    )
    expect(page.locator("#composer-files [role=alert]")).to_be_visible()
    expect(page.locator("#composer-files .upload.ready")).to_contain_text("slides.pdf")


def open_person_card(page: Page) -> None:
    page.locator(".message a.author[data-card]", has_text="bob").first.click()
    expect(page.locator("#person-card-dialog")).to_be_visible()
    expect(page.locator("#person-card-slot")).not_to_be_empty()


def open_switcher(page: Page) -> None:
    page.keyboard.press("Control+k")
    expect(page.locator("#switcher")).to_be_visible()
    page.locator("#switcher input[type=search]").fill("ge")
    expect(page.locator("#switcher-results li").first).to_be_visible()


def open_shortcuts(page: Page) -> None:
    page.evaluate("document.activeElement.blur()")  # "?" in the composer is just a question mark
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()


def open_drawer(page: Page) -> None:
    """The sidebar as a drawer, where the layout has one (narrow screens); elsewhere the page as it is."""
    toggle = page.locator(".drawer-toggle")
    if toggle.is_visible():
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")


def not_found(scene: Scene) -> Page:
    page = scene.page()
    response = page.goto(scene.server().url + MISSING)
    assert response.status == 404
    return page


def server_error(scene: Scene) -> Page:
    """500.html, rendered as Django's server_error does (no view here fails on purpose), with the headers the
    DEBUG-off site really sends (its CSP), at its address."""
    from django.template.loader import render_to_string

    body = render_to_string("500.html")
    page = scene.page()
    page.route(
        re.compile(re.escape(MISSING) + "$"), lambda route: route.fulfill(response=route.fetch(), status=500, body=body)
    )
    page.goto(scene.server().url + MISSING)
    page.wait_for_function("() => document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0")
    return page


def room_called(name: str, path: str = "/rooms/{slug}/", act: Callable[[Page], None] | None = None):
    """A page of a room found by name (a private room's address has a random tail; a group's, its number)."""

    def open_page(scene: Scene) -> Page:
        from rooms.models import Room

        room = in_thread(lambda: Room.objects.get(name=name) if name else Room.objects.get(kind=Room.Kind.GROUP))
        page = at(path.format(slug=room.slug, id=room.pk))(scene)
        if act:
            wait_for_socket(page)
            act(page)
        return page

    return open_page


def open_room_options(page: Page) -> None:
    page.get_by_text("Room options").click()
    expect(page.get_by_role("group", name="Notify me about")).to_be_visible()


def report(scene: Scene) -> Page:
    from moderation.models import Report

    return at(f"/admin/moderation/report/{Report.objects.get().pk}/change/", "mod")(scene)


PAGES: dict[str, Callable[[Scene], Page]] = {
    "login": at("/accounts/login/", None),
    "signup": at("/accounts/signup/", None),
    "password-reset": at("/accounts/password/reset/", None),
    "room-list": at("/"),
    "room-search": at("/?q=gen"),
    "create-room-error": create_room_with_an_error,
    "room": at("/rooms/general/"),
    "room-message-menu": in_room(open_message_menu),
    "room-editing": in_room(edit_own_message),
    "room-writing": in_room(write_with_help),
    "room-person-card": in_room(open_person_card),
    "room-reaction-picker": in_room(open_reaction_picker),
    "room-switcher": in_room(open_switcher),
    "room-shortcuts": in_room(open_shortcuts),
    "room-drawer": in_room(open_drawer),
    "room-lightbox": in_room(open_lightbox),
    "room-uploads": in_room(refused_upload),
    "room-unread-divider": at("/rooms/lobby/"),
    "room-not-joined": at("/rooms/design/"),
    "dm": at("/dm/bob/"),
    "new-dm": at("/dm/carol/"),
    "people": at("/people/"),
    "private-room-options": room_called("Hideout", act=open_room_options),
    "room-settings": room_called("General", "/rooms/{id}/settings/"),
    "group": room_called("", "/g/{id}/"),
    "mentions": at("/mentions/"),
    "person": at("/people/bob/card/"),
    "switch": at("/switch/?q=ge"),
    "search": at("/search/?q=plan"),  # messages, what matched marked (axe skips one-character text)
    "search-names": at("/search/?q=r"),  # people, rooms and messages
    "search-mistake": at("/search/?q=before:someday"),  # the mistake said, and how to search
    "search-files": at("/search/?q=has:file"),  # messages with files, named (some have no text)
    "settings": at("/accounts/settings/"),
    "notifications": at("/notifications/"),  # this device's state, levels, devices and their last delivery
    "unsubscribe": unsubscribe_link,
    "offline": at("/offline/", None),
    "security": at("/accounts/security/"),
    "sessions": at("/accounts/sessions/"),
    "email": at("/accounts/email/"),
    "password-change": at("/accounts/password/change/"),
    "two-factor": at("/accounts/2fa/"),
    "404": not_found,
    "500": server_error,
    "admin-index": at("/admin/", "mod"),
    "report-queue": at("/admin/moderation/report/", "mod"),
    "report": report,
}


# Two looks per page: the colours are the same tokens at every width, and the layout the same in both themes,
# so the light desktop and the dark phone check every colour pair and both layouts (e2e/test_looks.py goes
# through all four looks of a room, and the test below crosses the account's theme with the browser's).
LOOKS = [("light", "desktop"), ("dark", "phone")]


@pytest.fixture(scope="module", autouse=True)
def _scene(django_db_setup, asgi_live_server, django_db_blocker) -> Iterator[None]:
    """The scene, built once for the module: no test changes what another checks (pages only look, and what
    looking changes, read marks and the theme, is put back before each test)."""
    axe_source()  # skips (fails under CI) before building anything if axe-core is not installed
    with shared_scene(django_db_blocker, build_scene):
        yield


@pytest.fixture(autouse=True)
def _as_built() -> None:
    """Read marks as the scene set them (opening a room or conversation marks it read: the unread divider and
    the sidebar's counts must show in every test), and alice's theme back to the browser's."""

    def restore() -> None:
        from accounts.models import Profile
        from rooms.models import Membership

        for pk, seq in READ_MARKS:
            Membership.objects.filter(pk=pk).update(last_read_seq=seq)
        Profile.objects.filter(user__username="alice").update(theme="")

    in_thread(restore)


READ_MARKS: list[tuple[int, int]] = []  # (membership, last read seq), as build_scene left them


@pytest.mark.parametrize(("theme", "viewport"), LOOKS)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_accessibility_violations(name, theme, viewport, new_context, base_url, request) -> None:
    scene = Scene({"color_scheme": theme, **VIEWPORTS[viewport]}, new_context, base_url, request)
    page = settled(PAGES[name](scene))
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (theme == "dark")
    assert_accessible(page, f"{name} ({theme}, {viewport}) {page.url}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(("account_theme", "browser_theme"), [("dark", "light"), ("light", "dark")])
@pytest.mark.parametrize("name", ["room", "settings"])
def test_the_accounts_theme_over_the_browsers_has_no_accessibility_violations(
    name, account_theme, browser_theme, viewport, new_context, base_url, request
) -> None:
    """The theme chosen in the settings wins over the browser's: the pages in it pass too."""
    in_thread(choose_theme, "alice", account_theme)
    scene = Scene({"color_scheme": browser_theme, **VIEWPORTS[viewport]}, new_context, base_url, request)
    page = settled(PAGES[name](scene))
    assert page.evaluate("document.documentElement.dataset.theme") == account_theme
    assert_accessible(page, f"{name} (account {account_theme}, browser {browser_theme}, {viewport}) {page.url}")


def choose_theme(username: str, theme: str) -> None:
    from django.contrib.auth import get_user_model

    from accounts.models import Profile

    profile = Profile.for_user(get_user_model().objects.get(username=username))
    profile.theme = theme
    profile.save()


def settled(page: Page) -> Page:
    """The page once what it loads after arriving is in: the socket's first pushes (presence, unread counts)
    and any request the page makes by itself."""
    if page.evaluate("document.body.hasAttribute('ws-connect')"):
        wait_for_socket(page)
    page.wait_for_load_state("networkidle")
    return page


def test_axe_runs_under_the_sites_policy_without_loosening_it(new_context) -> None:
    """A script element added by the test is refused by the CSP (so add_script_tag cannot load axe); axe goes
    in through page.evaluate, which the policy does not govern, and runs without breaking it."""
    context = new_context()
    context.add_init_script(
        "window.__csp = [];"
        "document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective));"
    )
    page = context.new_page()
    response = page.goto("/accounts/login/")
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'", response.headers["content-security-policy"])
    with pytest.raises(Error, match="Content Security Policy"):
        page.add_script_tag(content="window.__tagRan = true")
    assert page.evaluate("window.__tagRan") is None
    inject(page)
    assert page.evaluate("async () => Array.isArray((await axe.run(document)).violations)")
    assert page.evaluate("window.__csp") == ["script-src-elem"]  # the refused tag only
