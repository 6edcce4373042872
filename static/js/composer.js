// The composer: what a send carries (its text, and the files uploads.js holds; refused here when blank or too
// long, or while a file is still uploading), a fresh client id for the next one,
// typing notices (at most one every 3 s), Enter to send (Shift+Enter for a new line), and closing it for good
// when the socket is (signed out, banned, the conversation gone), its text left there to copy.
import { saveText } from "./drafts.js";
import { clone, uuid4 } from "./page.js";
import { add } from "./pending.js";
import { stopReplying } from "./replies.js";
import { isConnected, wsSend } from "./socket.js";
import { text } from "./strings.js";
import * as uploads from "./uploads.js";

let closed = false;

// Counted in characters as the server counts them (code points, after trimming).
export function tooLong(body, limit) {
  const length = [...body.trim()].length;
  const number = (n) => n.toLocaleString("en");
  return length > limit ? text("too-long", { length: number(length), limit: number(limit) }) : "";
}

function showStatus(problem, kind = "error") {
  const status = document.getElementById("composer-status");
  status.className = `composer-status ${kind}`;
  status.textContent = problem;
}

// The ws extension built the frame from the form's fields: pending.js sends it instead, in its turn (paced
// and in order), so the extension never sends or queues a message itself.
function configSend(evt) {
  const form = evt.target.closest("#composer");
  if (!form) return;
  evt.preventDefault();
  if (closed) return;
  const { body, client_id: clientId, reply_to: replyTo } = evt.detail.parameters;
  const files = uploads.ready();
  // Blank or too long never leaves the page (the server would refuse it, and past 1 MiB drop the socket).
  // Files alone are a message: the text is their caption.
  if (files.busy) {
    // Sent by itself once the files are up (the person may still change the text meanwhile).
    showStatus(text("uploads-busy"), "");
    uploads.whenReady(() => {
      showStatus("", "");
      form.requestSubmit();
    });
    return;
  }
  const problem = body.trim() || files.ids ? tooLong(body, Number(form.dataset.maxLength)) : text("empty");
  if (problem) {
    showStatus(problem);
    return;
  }
  add(clientId, body, replyTo || "", files);
  uploads.sent();
  stopReplying();
  form.elements.body.value = "";
  form.elements.client_id.value = uuid4();
  saveText("");
}

let lastTyping = 0;
function typed(evt) {
  if (!evt.target.matches("#composer textarea") || closed || !isConnected() || !evt.target.value.trim()) return;
  if (Date.now() - lastTyping > 3000) {
    lastTyping = Date.now();
    wsSend({ action: "typing" });
  }
}

function keyDown(evt) {
  if (evt.key === "Enter" && !evt.shiftKey && !evt.isComposing && evt.target.matches("#composer textarea")) {
    evt.preventDefault();
    lastTyping = 0;
    evt.target.form.requestSubmit();
  }
}

// The socket was closed for good, for `reason` (a key of the page's strings): the composer says why and takes
// no more, and keeps what it holds readable and selectable (read-only, not disabled) to copy.
export function close(reason) {
  const form = document.getElementById("composer");
  if (closed || !form) return;
  closed = true;
  form.classList.add("closed");
  const input = form.elements.body;
  input.readOnly = true;
  input.setAttribute("aria-describedby", "composer-closed");
  form.querySelectorAll("button").forEach((button) => (button.disabled = true));
  const notice = clone("composer-closed-template");
  notice.id = "composer-closed";
  notice.textContent = text(reason);
  form.prepend(notice);
}

export function start() {
  document.addEventListener("htmx:wsConfigSend", configSend);
  document.addEventListener("input", typed);
  document.addEventListener("keydown", keyDown);
}
