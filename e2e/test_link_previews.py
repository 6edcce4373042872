"""Link previews in the browser: alice posts a link to a page of a loopback site, the task worker (a real
`manage.py db_worker` in its own process on the test database, its allow-list widened to that site only) makes
its card, and the card appears live on bob's page, its picture served by Roomcast: bob's browser never asks the
linked site for anything."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.linked_site import LinkedSite

from .support import assert_not_reloaded, mark_page, messages, send
from .test_design import alice_and_bob_in_launch


@pytest.fixture
def site() -> Iterator[LinkedSite]:
    site = LinkedSite()
    yield site
    site.close()


@pytest.mark.redis  # the worker reaches the server's sockets through Redis, as in production
def test_a_link_gets_its_card_live_on_the_other_persons_page(new_context, make_user, site, task_worker):
    _, alice, bob = alice_and_bob_in_launch(new_context, make_user)
    mark_page(bob)
    url = site.story()

    send(alice, f"Big news: {url}")
    message = messages(bob).last
    expect(message.locator(".body")).to_contain_text("Big news")
    card = message.locator(".link-card")
    expect(card.get_by_role("link", name="Roomcast ships")).to_have_attribute("href", url)
    expect(card).to_contain_text("The News")
    expect(card).to_contain_text("Link cards, live.")
    picture = card.locator("img")
    expect(picture).to_have_attribute("src", re.compile(r"^/link-previews/\d+/image/$"))
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") == 160  # Roomcast's copy, loaded
    expect(messages(alice).last.locator(".link-card")).to_contain_text("Roomcast ships")  # hers too
    assert_not_reloaded(bob)
    # The worker fetched the page and its picture once; neither browser asked the site for anything.
    assert site.paths() == ["/story", "/pic.png"]
