"""Hardened inputs in the browser: every page works under the Content Security Policy, and sending too fast
is refused visibly without losing what was typed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import in_thread, instrument, login
from .support import messages, send, wait_for_socket

# Every CSP violation the page reports, and every console error (Chromium logs each refusal there too).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""


def watched(context) -> list[str]:
    """Watch a browser context for violations; returns the list its console errors are collected in."""
    context.add_init_script(WATCH)
    errors: list[str] = []
    context.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


def visit(page: Page, path: str) -> None:
    """Open a page and check it came with the policy and broke none of it."""
    response = page.goto(path)
    assert response.ok, (path, response.status)
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'", response.headers["content-security-policy"])
    page.wait_for_load_state("load")
    assert_no_violations(page)


def assert_no_violations(page: Page) -> None:
    assert page.evaluate("window.__csp") == [], page.url


def test_every_page_and_the_live_chat_work_under_the_policy(new_context, make_user, admin_page):
    from rooms import services

    alice_user, bob_user = make_user("alice"), make_user("bob")
    room = in_thread(services.create_room, alice_user, "General")
    in_thread(services.join, bob_user, room)

    # Signed out: the account pages.
    anonymous = new_context()
    errors = watched(anonymous)
    page = anonymous.new_page()
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/admin/login/"):
        visit(page, path)

    # Signed in: the room list, people, a room and a conversation, with messages going live both ways.
    pages = {}
    for name in ("alice", "bob"):
        context = new_context()
        instrument(context)
        errors += watched(context)
        pages[name] = login(context.new_page(), name)
    alice, bob = pages["alice"], pages["bob"]
    visit(alice, "/")
    visit(alice, "/people/")
    visit(bob, "/rooms/general/")
    visit(alice, "/rooms/general/")
    for page in (alice, bob):
        wait_for_socket(page)  # the socket is allowed: connect-src 'self' covers ws: to the same host
    send(alice, "hello under the policy")
    expect(messages(bob)).to_contain_text(["hello under the policy"])
    send(bob, "and back")
    expect(messages(alice)).to_contain_text(["hello under the policy", "and back"])
    expect(alice.locator("#composer-status")).to_have_text("")
    # htmx took its configuration from the page: no indicator <style> of its own, no eval.
    assert alice.evaluate("[document.querySelectorAll('style').length, htmx.config.allowEval]") == [0, False]

    visit(alice, "/dm/bob/")
    wait_for_socket(alice)
    send(alice, "a private word")
    expect(messages(alice)).to_contain_text(["a private word"])
    visit(bob, "/dm/alice/")
    expect(messages(bob)).to_contain_text(["a private word"])
    for page in (alice, bob):
        assert_no_violations(page)

    # Admin: the index, change lists and a change form.
    admin = admin_page("/admin/")
    errors += watched(admin.context)
    message_id = services_message_id("a private word")
    for path in (
        "/admin/",
        "/admin/rooms/message/",
        "/admin/rooms/room/",
        f"/admin/rooms/message/{message_id}/change/",
    ):
        visit(admin, path)
    assert [e for e in errors if "Content Security Policy" in e] == []

    # The policy is really in force: an inline script or style is refused (and would be reported above).
    alice.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true";
        document.body.append(script);
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">inline style</p>');
    }""")
    alice.wait_for_function("() => window.__csp.length >= 2")
    assert alice.evaluate("window.__inlineRan") is None
    assert sorted(v.split()[0] for v in alice.evaluate("window.__csp")) == ["script-src-elem", "style-src-attr"]


def services_message_id(body: str) -> int:
    from rooms.models import Message

    return Message.objects.get(body=body).pk


def test_sending_too_fast_shows_a_notice_keeps_the_message_pending_and_sends_it_after_the_wait(logged_in, make_user):
    """The server's defaults: a burst of 10, then one a second."""
    from rooms import services
    from rooms.models import Message

    in_thread(services.create_room, make_user("dave"), "General")
    alice = logged_in("alice")
    alice.goto("/rooms/general/")
    wait_for_socket(alice)
    status, box = alice.locator("#composer-status"), alice.locator("#composer textarea")

    refused = None
    for n in range(1, 30):
        send(alice, f"quick {n}")
        # Wait for the answer: the message stored and shown, or the notice.
        alice.wait_for_function(
            "n => document.querySelectorAll('.messages article.message[data-seq]').length === n"
            " || document.getElementById('composer-status').textContent.includes('too fast')",
            arg=n,
        )
        if "too fast" in status.text_content():
            refused = n
            break
    assert refused is not None and refused > 10, "the burst of 10 went through, and then came a notice"
    expect(status).to_have_text(re.compile(r"You're sending messages too fast\. This one goes out by itself in \d s\."))
    expect(status).to_be_visible()
    # Not put back in the box (where it could be sent twice, or merged with others): it waits, as itself,
    # and what is written after it waits behind it.
    expect(box).to_have_value("")
    send(alice, "written after")
    pending = alice.locator(".messages .pending")
    expect(pending).to_have_count(2)
    expect(pending.first).to_contain_text(f"quick {refused}")
    expect(pending.first).to_contain_text("waiting…")
    expect(pending.last).to_contain_text("written after")

    # After the wait the page sends them by itself, in order: each stored once, shown once.
    expect(messages(alice).last).to_contain_text("written after", timeout=8000)
    expect(messages(alice).nth(-2)).to_contain_text(f"quick {refused}")
    expect(pending).to_have_count(0)
    stored = list(Message.objects.order_by("seq").values_list("body", flat=True))
    assert stored[-2:] == [f"quick {refused}", "written after"] and stored.count(f"quick {refused}") == 1
