"""Conversations that never lose a message, seen in real browsers: drops and catch-up, unread, presence,
typing, edit and delete, history and permalinks."""

from __future__ import annotations

import re
import uuid

from django.contrib.auth import get_user_model
from playwright.sync_api import Page, WebSocketRoute, expect

from .conftest import in_thread
from .support import MENU, message_action, messages, send, wait_for_socket

User = get_user_model()


class Cable:
    """The wire between one browser context and the server, which the test can cut and restore.

    `context.set_offline(True)` alone does not close an open websocket in Chromium, so a drop is made here:
    every socket goes through Playwright's websocket routing; cutting closes both ends (the page sees 1012 and
    reconnects, as after a server restart) and refuses new sockets (1013, "try again later") until restored.
    """

    def __init__(self, context) -> None:
        self.context = context
        self.cut = False
        self.live: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        # The next frame containing each of these texts is lost on the way (a flaky network, a full layer).
        self.lose_to_server: set[str] = set()
        self.lose_to_page: set[str] = set()
        self.sent: list[str] = []  # every frame the page sent
        context.route_web_socket(re.compile(r"/ws/"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        if self.cut:
            ws.close(code=1013, reason="offline")
            return
        server = ws.connect_to_server()
        ws.on_message(
            lambda message: self.sent.append(str(message)) or self._pass(message, self.lose_to_server, server)
        )
        server.on_message(lambda message: self._pass(message, self.lose_to_page, ws))
        self.live.append((ws, server))

    def _sent(self, message: str | bytes, server: WebSocketRoute) -> None:
        self.sent.append(message if isinstance(message, str) else message.decode())
        self._pass(message, self.lose_to_server, server)

    @staticmethod
    def _pass(message: str | bytes, lose: set[str], to: WebSocketRoute) -> None:
        text = message if isinstance(message, str) else message.decode()
        if lost := next((marker for marker in lose if marker in text), None):
            lose.discard(lost)
            return
        to.send(message)

    def unplug(self) -> None:
        self.cut = True
        self.context.set_offline(True)
        for page_side, server_side in self.live:
            server_side.close(code=1001, reason="gone")
            page_side.close(code=1012, reason="dropped")
        self.live.clear()

    def plug_in(self) -> None:
        self.cut = False
        self.context.set_offline(False)


def edit(page: Page, message_id: int, text: str) -> None:
    """Edit one's own message the way a person does: hover, Edit, type, Enter."""
    message = page.locator(f"#msg-{message_id}")
    message_action(page, message, "Edit")
    message.locator("form.edit textarea").fill(text)
    message.locator("form.edit textarea").press("Enter")
    expect(page.locator(f"#msg-{message_id}")).to_contain_text("(edited)")


def delete(page: Page, message_id: int) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    message = page.locator(f"#msg-{message_id}")
    message_action(page, message, "Delete")
    expect(page.locator(f"#msg-{message_id}")).to_have_count(0)


def texts(page: Page) -> list[str]:
    return messages(page).locator(".body").all_inner_texts()


def room_with(alice_user, *others):
    from rooms import services

    room = in_thread(services.create_room, alice_user, "General")
    for person in others:
        in_thread(services.join, person, room)
    return room


def test_a_dropped_page_catches_up_in_order_and_sends_what_was_typed_offline_once(new_context, make_user, logged_in):
    from rooms.models import Message

    from .conftest import instrument, login

    alice_user, bob_user = make_user("alice"), make_user("bob")
    room = room_with(alice_user, bob_user)
    from rooms import services

    earlier = in_thread(services.post_message, alice_user, room.pk, "earlier, with a tpyo", uuid.uuid4()).message
    doomed = in_thread(services.post_message, alice_user, room.pk, "soon deleted", uuid.uuid4()).message

    bob_context = new_context()
    instrument(bob_context)
    cable = Cable(bob_context)
    bob = login(bob_context.new_page(), "bob")
    bob.goto("/rooms/general/")
    wait_for_socket(bob)
    alice_context = new_context()
    instrument(alice_context)
    alice = login(alice_context.new_page(), "alice")
    alice.goto("/rooms/general/")
    wait_for_socket(alice)
    expect(messages(bob)).to_have_count(2)

    cable.unplug()
    expect(bob.locator("#connection")).to_contain_text("Reconnecting")
    # The composer still works: what bob sends now waits, visibly, for the connection.
    send(bob, "typed while offline")
    expect(bob.locator(".messages .pending")).to_contain_text("typed while offline")
    expect(bob.locator("#composer textarea")).to_have_value("")

    for text in ("one", "two", "three"):
        send(alice, text)
    edit(alice, earlier.pk, "earlier, with a typo fixed")
    delete(alice, doomed.pk)
    expect(messages(alice)).to_have_count(4)

    cable.plug_in()
    expect(bob.locator("#connection")).to_be_hidden(timeout=15_000)
    expected = ["earlier, with a typo fixed", "one", "two", "three", "typed while offline"]
    expect(messages(bob)).to_have_count(5)
    expect(bob.locator(".messages .pending")).to_have_count(0)
    assert texts(bob) == expected
    expect(messages(alice)).to_have_count(5)
    assert texts(alice) == expected
    assert Message.objects.filter(body="typed while offline").count() == 1
    # A reload shows the same conversation: nothing was shown that was not stored, and nothing was lost.
    bob.reload()
    expect(messages(bob)).to_have_count(5)
    assert texts(bob) == expected


def test_unread_presence_typing_edit_and_delete_between_two_people(logged_in):
    from rooms import services

    alice = logged_in("alice")
    bob = logged_in("bob")
    alice_user, bob_user = (User.objects.get(username=n) for n in ("alice", "bob"))
    room = room_with(alice_user, bob_user)
    in_thread(services.post_message, bob_user, room.pk, "bob was here", uuid.uuid4())
    bob.reload()  # bob waits on the room list, which now shows General
    alice.goto("/rooms/general/")
    wait_for_socket(alice)
    wait_for_socket(bob)

    send(alice, "first unread")
    send(alice, "second unread")
    count = bob.locator(f"#unread-{room.pk}")
    expect(count).to_have_text("2")

    bob.locator("#room-list").get_by_role("link", name="# General").click()
    expect(bob.locator(".unread-divider")).to_be_visible()
    page = bob.content()
    assert page.index("bob was here") < page.index("New messages") < page.index('class="body"><p>first unread')
    # Seeing the room reads it: the count goes, here and after a reload.
    expect(count).to_be_hidden()
    bob.reload()
    expect(bob.locator(f"#unread-{room.pk}")).to_be_hidden()
    wait_for_socket(bob)

    # Both are online in the room, each once.
    for page in (alice, bob):
        expect(page.locator(f"#presence-{room.pk}")).to_have_text(re.compile(r"Here now: alice, bob$"))

    # Typing shows to bob and never to alice herself; it fades after a few seconds.
    alice.locator("#composer textarea").press_sequentially("thinking")
    expect(bob.locator(f"#typing-{room.pk}")).to_have_text("alice is typing…")
    expect(alice.locator(f"#typing-{room.pk}")).to_have_text("")
    expect(bob.locator(f"#typing-{room.pk}")).to_have_text("", timeout=10_000)

    # alice edits and then deletes her first message; bob sees both, live.
    first = alice.locator(".messages article.message.mine", has_text="first unread")
    first_id = int(first.get_attribute("id").removeprefix("msg-"))
    edit(alice, first_id, "first, edited")
    edited = bob.locator(f"#msg-{first_id}")
    expect(edited).to_contain_text("first, edited")
    expect(edited).to_contain_text("(edited)")
    delete(alice, first_id)
    expect(edited).to_have_count(0)
    expect(messages(bob)).to_contain_text(["bob was here", "second unread"])

    # bob cannot edit alice's message: the button is not there for him.
    theirs = bob.locator(".messages article.message", has_text="second unread")
    theirs.hover()
    theirs.get_by_role("button", name=MENU).click()
    expect(theirs.get_by_role("menuitem", name="Report")).to_be_visible()
    expect(theirs.get_by_role("menuitem", name="Edit")).to_be_hidden()

    # Closing alice's page takes her off bob's online list within seconds.
    alice.close()
    expect(bob.locator(f"#presence-{room.pk}")).to_have_text(re.compile(r"Here now: bob$"))


def test_history_scrolls_back_and_a_permalink_opens_the_message(logged_in):
    from rooms import services

    alice = logged_in("alice")
    alice_user = User.objects.get(username="alice")
    room = room_with(alice_user)
    posted = [
        in_thread(services.post_message, alice_user, room.pk, f"message number {i}", uuid.uuid4()).message
        for i in range(80)
    ]
    alice.goto("/rooms/general/")
    expect(messages(alice)).to_have_count(50)
    expect(messages(alice).last).to_contain_text("message number 79")

    # Scrolling to the top loads the 30 older ones above, and the reader stays where they were.
    anchor = alice.locator(".messages article.message", has_text="message number 30")
    anchor.scroll_into_view_if_needed()
    alice.locator(".messages").evaluate("box => box.scrollTop = 0")
    expect(messages(alice)).to_have_count(80)
    expect(messages(alice).first).to_contain_text("message number 0")
    expect(alice.locator(".history-more")).to_have_count(0)
    expect(anchor).to_be_in_viewport()

    # Each time links to its message: it opens the room there, highlighted.
    target = posted[10]
    alice.goto(f"/m/{target.pk}/")
    expect(alice).to_have_url(re.compile(rf"/rooms/general/\?around={target.seq}#msg-{target.pk}$"))
    expect(alice.locator(f"#msg-{target.pk}")).to_have_class(re.compile(r"\bhighlight\b"))
    expect(alice.locator(f"#msg-{target.pk}")).to_be_in_viewport()


def _room_page(new_context, username: str, path: str = "/rooms/general/") -> tuple[Page, Cable]:
    from .conftest import instrument, login

    context = new_context()
    instrument(context)
    cable = Cable(context)
    page = login(context.new_page(), username)
    page.goto(path)
    wait_for_socket(page)
    return page, cable


def test_a_send_lost_as_the_connection_dies_is_sent_again_once(new_context, make_user):
    from rooms.models import Message

    alice_user, bob_user = make_user("alice"), make_user("bob")
    room_with(alice_user, bob_user)
    alice, cable = _room_page(new_context, "alice")
    bob, _ = _room_page(new_context, "bob")

    cable.lose_to_server.add("lost in transit")
    send(alice, "lost in transit")
    expect(alice.locator(".messages .pending")).to_contain_text("lost in transit")
    cable.unplug()
    cable.plug_in()

    for page in (alice, bob):
        expect(messages(page).filter(has_text="lost in transit")).to_have_count(1, timeout=15_000)
    expect(alice.locator(".messages .pending")).to_have_count(0)
    assert Message.objects.filter(body="lost in transit").count() == 1


def test_a_frame_lost_on_the_way_to_the_page_is_noticed_and_fetched(new_context, make_user):
    alice_user, bob_user = make_user("alice"), make_user("bob")
    room_with(alice_user, bob_user)
    alice, _ = _room_page(new_context, "alice")
    bob, bob_cable = _room_page(new_context, "bob")

    bob_cable.lose_to_page.add("a frame that got lost")
    send(alice, "a frame that got lost")
    send(alice, "the next one")
    # The next frame's change number shows bob's page the gap; it asks again and gets the lost message.
    expect(messages(bob)).to_have_count(2)
    assert texts(bob) == ["a frame that got lost", "the next one"]


def test_an_edit_that_is_refused_says_why_in_its_own_form_and_keeps_the_text(new_context, make_user):
    alice_user = make_user("alice")
    room_with(alice_user)
    alice, _ = _room_page(new_context, "alice")
    send(alice, "original words")
    mine = messages(alice).filter(has_text="original words")
    mine.hover()
    message_action(mine.page, mine, "Edit")
    box = mine.locator("form.edit textarea")
    box.fill("   ")
    box.press("Enter")  # blank: the server refuses it
    expect(mine.locator(".edit-error")).to_have_text("Message is empty.")
    box.fill("y" * 4001)
    box.press("Enter")  # too long: refused on the page
    expect(mine.locator(".edit-error")).to_contain_text("Message is too long: 4,001 characters")
    expect(box).to_have_value("y" * 4001)
    expect(alice.locator("#composer-status")).to_have_text("")
    box.fill("better words")
    box.press("Enter")
    expect(messages(alice).filter(has_text="better words")).to_contain_text("(edited)")


def set_visibility(page: Page, state: str) -> None:
    """What the browser does when the person switches tabs (headless Chromium never hides a page itself)."""
    page.evaluate(
        """state => {
            Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_coming_back_to_a_hidden_tab_shows_where_the_new_messages_start(new_context, make_user):
    from rooms.models import Membership

    alice_user, bob_user = make_user("alice"), make_user("bob")
    room = room_with(alice_user, bob_user)
    alice, _ = _room_page(new_context, "alice")
    bob, _ = _room_page(new_context, "bob")
    send(alice, "seen by bob")
    expect(messages(bob)).to_have_count(1)

    set_visibility(bob, "hidden")
    send(alice, "while bob was away")
    expect(messages(bob)).to_have_count(2)
    expect(bob.locator(f"#unread-{room.pk}")).to_have_text("1")  # not read while hidden
    set_visibility(bob, "visible")
    page = bob.locator(".messages").inner_text()
    assert page.index("seen by bob") < page.index("New messages") < page.index("while bob was away")
    expect(bob.locator(f"#unread-{room.pk}")).to_be_hidden()
    last = Membership.objects.get(room=room, user=bob_user).last_read_seq
    assert last == room.messages.get(body="while bob was away").seq


def test_a_lost_frame_for_a_message_edited_since_is_fetched_once_and_the_page_settles(new_context, make_user):
    alice_user, bob_user = make_user("alice"), make_user("bob")
    room_with(alice_user, bob_user)
    alice, _ = _room_page(new_context, "alice")
    bob, bob_cable = _room_page(new_context, "bob")

    def catch_ups() -> int:
        return sum('"catch_up"' in frame for frame in bob_cable.sent)

    asked_before = catch_ups()  # the pages' own catch-ups when their sockets opened
    bob_cable.lose_to_page.add("first draft")
    send(alice, "first draft")
    mine = messages(alice).filter(has_text="first draft")
    expect(mine).to_have_count(1)
    edit(alice, int(mine.get_attribute("id").removeprefix("msg-")), "final words")
    # The catch-up brings the message in its latest state, under one number: the other one never comes.
    expect(messages(bob)).to_have_count(1)
    expect(messages(bob)).to_contain_text("final words")
    bob.wait_for_timeout(4000)  # a stalled cursor would keep asking every couple of seconds
    assert catch_ups() - asked_before == 1, bob_cable.sent
