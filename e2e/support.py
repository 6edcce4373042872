"""What the journeys do as a person would: wait for the socket, type and send, read the messages."""

from __future__ import annotations

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

MENU = "Message actions"  # the "⋯" button's label on every message


def wait_for_socket(page: Page) -> None:
    """Wait until the page's websocket is open (counted by the init script in conftest.instrument), so
    frames sent from now on reach it. Not an assertion: the page looks the same before and after.

    (The consumer joins its groups before it accepts, so "open" means "listening".)"""
    page.wait_for_function("() => (window.__wsOpens || 0) > 0")


def send(page: Page, text: str) -> None:
    """Type in the composer and press Enter, as a person would."""
    box = page.locator("#composer textarea")
    box.fill(text)
    box.press("Enter")


def messages(page: Page):
    """Messages the server has stored (not the "sending…" copies a page shows meanwhile)."""
    return page.locator(".messages article.message[data-seq]")


def mark_page(page: Page) -> None:
    """A flag that a reload or navigation would wipe: proves later updates arrived live."""
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__noReload === true"), "the page was reloaded or navigated away"


def message_action(page: Page, article, name: str) -> None:
    """Choose an action from a message's "⋯" menu, as a person does: hover (or focus) the message, open the
    menu, pick the item. Hovered again if the list moved the message from under the pointer meanwhile (new
    messages scroll it), as a person would move the mouse back."""
    toggle = article.get_by_role("button", name=MENU)
    for attempt in range(4):
        article.hover()
        try:
            toggle.click(timeout=2_500)
            break
        except PlaywrightTimeout:
            if attempt == 3:
                raise
    article.get_by_role("menuitem", name=name).click()
