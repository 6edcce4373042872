"""Moderation seen in real browsers: a moderator (staff in the Moderators group, not a superuser) acts in
admin, and the people's open pages change at once."""

from __future__ import annotations

import importlib
import uuid

from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from moderation import services as moderation
from rooms import access, services

from .conftest import PASSWORD, _make_user, admin_login, in_thread
from .support import assert_not_reloaded, mark_page, message_action, messages, wait_for_socket

User = get_user_model()
group_migration = importlib.import_module("moderation.migrations.0002_moderators_group")


def open_room(page: Page, slug: str) -> Page:
    page.goto(f"/rooms/{slug}/")
    wait_for_socket(page)
    mark_page(page)
    return page


def moderator_admin(new_context, path: str) -> Page:
    """A staff moderator, not a superuser, logged in through admin's own form, on `path`."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    group_migration.create_moderators_group(apps, None)  # each test's flush emptied the tables
    mod = _make_user("mod")
    mod.is_staff = True
    mod.save(update_fields=["is_staff"])
    mod.groups.add(Group.objects.get(name="Moderators"))
    return admin_login(new_context, "mod", path)


def test_a_reported_message_is_removed_from_the_report_queue_and_vanishes_live(logged_in, new_context):
    alice, bob = logged_in("alice"), logged_in("bob")
    author = User.objects.get(username="alice")
    room = in_thread(services.create_room, author, "Lobby")
    spam, kept = (
        in_thread(services.post_message, author, room.pk, text, uuid.uuid4()).message
        for text in ("Buy followers, cheap!", "See you all at 6")
    )
    for page in (alice, bob):
        open_room(page, "lobby")
        expect(messages(page)).to_have_count(2)

    # bob reports alice's message from its actions.
    article = bob.locator(f"#msg-{spam.pk}")
    message_action(bob, article, "Report")
    article.get_by_label("Why are you reporting this message?").fill("Spam")
    article.locator("form.report").get_by_role("button", name="Report").click()
    expect(article.locator(".report-note")).to_have_text(str(moderation.THANKS))
    expect(bob.locator("#composer-status")).to_have_text("")  # the answer went to the report form

    mod = moderator_admin(new_context, "/admin/moderation/report/")
    row = mod.locator("#result_list tbody tr", has_text="Buy followers, cheap!")
    expect(row).to_contain_text("bob")
    expect(row).to_contain_text("Spam")
    row.get_by_role("link").first.click()
    expect(mod.locator(".report-context tr.reported")).to_contain_text("Buy followers, cheap!")
    mod.get_by_role("button", name="Remove message").click()
    expect(mod.locator("ul.messagelist")).to_contain_text("Remove message: done")

    for page in (alice, bob):
        expect(page.locator(f"#msg-{spam.pk}")).to_have_count(0)
        expect(page.locator(f"#msg-{kept.pk}")).to_contain_text("See you all at 6")
        assert_not_reloaded(page)


def test_a_ban_in_admin_signs_the_person_out_of_their_open_page_at_once(logged_in, new_context):
    alice = logged_in("alice")
    wait_for_socket(alice)  # the room list holds a socket too
    mark_page(alice)

    mod = moderator_admin(new_context, "/admin/moderation/ban/add/")
    mod.locator(".field-user .select2-selection").click()
    mod.locator(".select2-search__field").fill("alice")
    mod.locator(".select2-results__option", has_text="alice").click()
    mod.get_by_label("Reason").fill("Spamming links")
    mod.get_by_role("button", name="Save", exact=True).click()
    expect(mod.locator("ul.messagelist")).to_contain_text("was added successfully")

    expect(alice.locator("#connection")).to_contain_text("You have been signed out of chat")
    assert_not_reloaded(alice)
    # Logging in again says why it cannot.
    alice.goto("/accounts/login/")
    form = alice.locator("form", has=alice.locator("input[name=login]"))
    form.locator("input[name=login]").fill("alice")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(alice.locator("main")).to_contain_text(
        "Your account is suspended until a moderator lifts the ban. Reason: Spamming links"
    )


def test_locking_a_room_in_admin_hides_the_composer_live(logged_in, make_user, new_context):
    in_thread(services.create_room, make_user("dave"), "Town Hall")
    bob = open_room(logged_in("bob"), "town-hall")
    expect(bob.locator("#composer textarea")).to_be_visible()

    mod = moderator_admin(new_context, "/admin/rooms/room/")
    mod.locator("#result_list tbody tr", has_text="Town Hall").locator("input.action-select").check()
    mod.locator("select[name=action]").select_option("lock_rooms")
    mod.locator("button[name=index]").click()
    expect(mod.locator("ul.messagelist")).to_contain_text("1 room locked.")

    expect(bob.locator("#composer textarea")).to_be_hidden()
    expect(bob.get_by_text(str(access.LOCKED))).to_be_visible()
    assert_not_reloaded(bob)


def test_archiving_a_room_in_admin_makes_it_read_only_live_and_the_report_shows_the_reported_text(
    logged_in, make_user, new_context
):
    dave = make_user("dave")
    room = in_thread(services.create_room, dave, "Old Project")
    said = in_thread(services.post_message, dave, room.pk, "Ship it on Friday, losers", uuid.uuid4()).message
    bob = open_room(logged_in("bob"), "old-project")
    in_thread(moderation.report_message, User.objects.get(username="bob"), said.pk, "Rude")
    in_thread(services.edit_message, dave, said.pk, "Ship it on Friday")  # cleaned up before review
    expect(bob.locator(f"#msg-{said.pk}")).to_contain_text("Ship it on Friday")

    mod = moderator_admin(new_context, "/admin/moderation/report/")
    row = mod.locator("#result_list tbody tr", has_text="Ship it on Friday, losers")
    expect(row).to_contain_text("(edited after it was reported)")
    row.get_by_role("link").first.click()
    expect(mod.locator(".report-context tr.reported mark")).to_have_text("Ship it on Friday, losers")

    mod.goto("/admin/rooms/room/")
    mod.locator("#result_list tbody tr", has_text="Old Project").locator("input.action-select").check()
    mod.locator("select[name=action]").select_option("archive_rooms")
    mod.locator("button[name=index]").click()
    expect(mod.locator("ul.messagelist")).to_contain_text("1 room archived.")

    expect(bob.locator("#composer textarea")).to_be_hidden()
    expect(bob.locator(f"#msg-{said.pk}")).to_contain_text("Ship it on Friday")  # still readable
    assert_not_reloaded(bob)
