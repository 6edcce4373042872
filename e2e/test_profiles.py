"""A profile in the browser: alice picks a picture (seen at once, before she saves), a display name, her zone
and the dark theme on the settings page, and bob, opening her card, sees her by that name with the picture
(squared and served by the server) and her local time."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect


def holiday_photo() -> bytes:
    """A camera's photo: 800x600, with what it was taken with in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "Alice's camera"  # Make
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "teal").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def loaded_size(image) -> list[int]:
    """The picture's own size as the browser decoded it (0 x 0 if it did not load)."""
    return image.evaluate("img => img.complete ? [img.naturalWidth, img.naturalHeight] : [0, 0]")


def test_alice_sets_a_picture_and_a_name_and_bob_sees_them_on_her_card(logged_in):
    from accounts.models import Profile

    alice = logged_in("alice")
    try:
        alice.goto("/accounts/settings/")
        expect(alice.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
        alice.get_by_label("Profile picture").set_input_files(
            {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": holiday_photo()}
        )
        # Before saving, the chosen picture stands in for her initials, as it is (800x600), and says so.
        chosen = alice.get_by_role("img", name="Your new picture (preview)")
        expect(chosen).to_be_visible()
        alice.wait_for_function("() => document.querySelector('.avatar-field img.avatar').complete")
        assert loaded_size(chosen) == [800, 600]
        expect(alice.get_by_role("status")).to_have_text("This is a preview: press Save to use this picture.")
        alice.get_by_label("Display name").fill("Alice Liddell")
        alice.get_by_label("Time zone").select_option("Asia/Kolkata")
        alice.get_by_label("Dark").check()
        alice.get_by_role("button", name="Save").click()

        expect(alice.locator(".flash")).to_contain_text("Your preferences are saved.")
        expect(alice.locator("html")).to_have_attribute("data-theme", "dark")
        preview = alice.locator(".avatar-field img.avatar")
        expect(preview).to_have_attribute("src", Profile.objects.get(user__username="alice").avatar.url)
        expect(alice.get_by_label("Display name")).to_have_value("Alice Liddell")
        alice.wait_for_function("() => document.querySelector('.avatar-field img.avatar').complete")
        assert loaded_size(preview) == [256, 256]

        bob = logged_in("bob")
        bob.goto("/people/alice/card/")  # the card as a page (without htmx): the lead wires clicks on names to it
        card = bob.locator(".person-card")
        expect(card.get_by_role("heading", name="Alice Liddell")).to_be_visible()
        expect(card).to_contain_text("@alice")
        expect(card.locator(".local-time")).to_contain_text("local time")
        expect(card.get_by_role("link", name="Message")).to_have_attribute("href", "/dm/alice/")
        bob.wait_for_function("() => document.querySelector('.person-card img.avatar').complete")
        assert loaded_size(card.locator("img.avatar")) == [256, 256]

        # What htmx gets from the same URL: the card alone.
        fragment = bob.request.get("/people/alice/card/", headers={"HX-Request": "true"})
        assert fragment.ok and "<html" not in fragment.text() and "Alice Liddell" in fragment.text()
    finally:
        # The server writes to the checkout's media/: leave nothing there.
        for profile in Profile.objects.filter(user__username="alice"):
            profile.avatar.delete(save=False)
