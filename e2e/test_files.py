"""Files in the browser: alice attaches them with the 📎 button (each shows its progress, one is cancelled, and
the message she sends meanwhile goes once they are up), by dropping them on the conversation and by pasting a
picture; bob sees each message with its files at once and the picture's thumbnail arrive live from the task
worker, then opens it large and steps through the pictures with the keyboard. Refusals (too large, an HTML page
named .png, an eleventh file) are said on the file's own line, and the caption being written stays."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Error, expect

from .support import assert_not_reloaded, mark_page, message_action, messages
from .test_design import alice_and_bob_in_launch

UPLOAD = re.compile(r"/rooms/\d+/files/$")


def png(width: int, height: int, colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def drop(page, name: str, content: str) -> None:
    """Files dragged from the desktop onto the conversation: the events a drop makes, with a DataTransfer."""
    carried = page.evaluate_handle(
        "([name, content]) => { const dt = new DataTransfer(); dt.items.add(new File([content], name)); return dt; }",
        [name, content],
    )
    page.dispatch_event(".messages", "dragover", {"dataTransfer": carried})
    expect(page.locator(".conversation.dropping")).to_be_visible()  # "Drop files to share them here"
    page.dispatch_event(".messages", "drop", {"dataTransfer": carried})
    expect(page.locator(".conversation.dropping")).to_have_count(0)


def paste_picture(page, name: str) -> None:
    """A screenshot pasted into the composer (made in the page: a canvas drawn and encoded as PNG)."""
    page.locator("#composer textarea").evaluate(
        """async (box, name) => {
            const canvas = document.createElement("canvas");
            canvas.width = 320; canvas.height = 180;
            canvas.getContext("2d").fillRect(0, 0, 320, 180);
            const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
            const dt = new DataTransfer();
            dt.items.add(new File([blob], name, { type: "image/png" }));
            box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
        }""",
        name,
    )


def tray_item(page, name: str):
    return page.locator("#composer-files .upload", has_text=name)


@pytest.mark.redis  # the worker reaches the server's sockets through Redis, as in production
def test_files_by_button_drop_and_paste_reach_the_room_and_the_thumbnail_arrives_live(
    new_context, make_user, task_worker
):
    _, alice, bob = alice_and_bob_in_launch(new_context, make_user)
    mark_page(bob)

    # The button: two files chosen. Held on the way (a slow network), each shows its progress; one is cancelled.
    held = []
    alice.route(UPLOAD, lambda route: held.append(route))
    with alice.expect_file_chooser() as chooser:
        alice.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(
        [
            {"name": "chart.png", "mimeType": "image/png", "buffer": png(800, 400, "teal")},
            {"name": "mistake.txt", "mimeType": "text/plain", "buffer": b"not this one"},
        ]
    )
    expect(alice.get_by_role("progressbar", name="Uploading chart.png")).to_be_visible()
    expect(alice.get_by_role("progressbar", name="Uploading mistake.txt")).to_be_visible()
    alice.locator("#composer textarea").fill("Q3 numbers")
    alice.locator("#composer textarea").press("Enter")  # while they upload: it goes once they are up
    expect(alice.locator("#composer-status")).to_have_text("Sends as soon as the files have uploaded.")
    alice.get_by_role("button", name="Remove mistake.txt").click()
    expect(tray_item(alice, "mistake.txt")).to_have_count(0)
    alice.unroute(UPLOAD)
    for route in held:
        try:
            route.continue_()
        except Error:  # the cancelled one: the page aborted its request
            pass
    first = messages(bob).last
    expect(first.locator(".body")).to_have_text("Q3 numbers")
    expect(first.locator(".attachment-image")).to_have_count(1)
    expect(alice.locator("#composer-files")).to_be_hidden()
    expect(alice.locator("#composer-status")).to_be_empty()

    # Dropped on the conversation, and a pasted screenshot: files alone, no caption.
    drop(alice, "notes.txt", "minutes of the call")
    paste_picture(alice, "screenshot.png")
    expect(alice.locator("#composer-files .upload.ready")).to_have_count(2)
    expect(tray_item(alice, "notes.txt")).to_contain_text(re.compile(r"\d+\s(bytes|KB)"))  # uploaded, its size
    alice.locator("#composer textarea").press("Enter")
    expect(alice.locator("#composer-files")).to_be_hidden()

    message = messages(bob).last
    expect(message.locator(".attachment-card")).to_contain_text("notes.txt")
    expect(message.locator(".attachment-image")).to_have_count(1)
    pictures = bob.locator(".messages .attachment-image")
    expect(pictures).to_have_count(2)
    chart = pictures.first
    expect(chart.locator("img")).to_have_attribute("src", re.compile(r"^/files/\d+/thumbnail/$"))  # live
    expect(chart.locator("img")).to_have_js_property("complete", True)
    box = chart.locator("img").bounding_box()
    assert (round(box["width"]), round(box["height"])) == (360, 180)  # its box, as reserved
    assert chart.locator("img").evaluate("img => img.naturalWidth") == 720  # the thumbnail, for sharp screens
    expect(alice.locator(".messages .attachment-image img")).to_have_count(2)  # hers too
    assert_not_reloaded(bob)
    assert alice.evaluate("document.querySelectorAll('.attachment-card').length") == 1  # not mistake.txt

    # Opened large, stepped through with the keyboard, closed with Esc: focus comes back to the picture.
    chart.click()
    lightbox = bob.get_by_role("dialog", name="Picture")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator(".lightbox-name")).to_have_text("chart.png")
    expect(lightbox.locator("img")).to_have_js_property("naturalWidth", 800)  # the original
    bob.keyboard.press("ArrowRight")
    expect(lightbox.locator(".lightbox-name")).to_have_text("screenshot.png")
    expect(lightbox.locator(".lightbox-count")).to_have_text("2 / 2")
    bob.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    expect(pictures.last).to_be_focused()

    # alice deletes the first message: asked about its files too, and bob's page drops it, its picture gone.
    asked = []
    alice.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    chart_address = chart.get_attribute("href")
    message_action(alice, messages(alice).filter(has_text="Q3 numbers"), "Delete")
    expect(bob.locator(".messages .attachment-image")).to_have_count(1)
    assert asked == ["Delete this message and its files for everyone?"]
    assert bob.request.get(chart_address).status == 404


def test_refused_files_say_why_on_their_own_line_and_the_caption_stays(new_context, make_user):
    _, alice, _ = alice_and_bob_in_launch(new_context, make_user)
    box = alice.locator("#composer textarea")
    box.fill("Here is the cat")
    with alice.expect_file_chooser() as chooser:
        alice.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(
        [{"name": "cat.png", "mimeType": "image/png", "buffer": b"<!doctype html><script>alert(1)</script>"}]
    )
    expect(tray_item(alice, "cat.png").get_by_role("alert")).to_have_text(
        "“cat.png” is named like PNG image, but its content is HTML page. Nothing was uploaded."
    )
    # Larger than the limit: said before a byte is sent.
    alice.locator("#composer textarea").evaluate(
        """(box) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(26 * 1024 * 1024)], "dump.bin"));
            box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
        }"""
    )
    expect(tray_item(alice, "dump.bin").get_by_role("alert")).to_have_text(
        "“dump.bin” is too large: files up to 25.0\xa0MB can be shared."
    )
    expect(box).to_have_value("Here is the cat")
    alice.get_by_role("button", name="Remove cat.png").click()
    alice.get_by_role("button", name="Remove dump.bin").click()
    expect(alice.locator("#composer-files")).to_be_hidden()
    # Eleven at once: the eleventh is refused at once (a message carries ten), the ten go up.
    alice.locator("#composer-file-input").set_input_files(
        [{"name": f"page-{n:02d}.txt", "mimeType": "text/plain", "buffer": b"x"} for n in range(1, 12)]
    )
    expect(tray_item(alice, "page-11.txt").get_by_role("alert")).to_have_text(
        "A message can carry up to 10 files: send these first, then the rest."
    )
    expect(alice.locator("#composer-files .upload.ready")).to_have_count(10)
