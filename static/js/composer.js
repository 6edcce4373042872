// The composer: what a send carries (refused here when too long), a fresh client id for the next one,
// typing notices (at most one every 3 s), and Enter to send (Shift+Enter for a new line).
import { uuid4 } from "./page.js";
import { add } from "./pending.js";
import { isConnected, wsSend } from "./socket.js";
import { text } from "./strings.js";

// Counted in characters as the server counts them (code points, after trimming).
export function tooLong(body, limit) {
  const length = [...body.trim()].length;
  const number = (n) => n.toLocaleString("en");
  return length > limit ? text("too-long", { length: number(length), limit: number(limit) }) : "";
}

function showStatus(problem) {
  const status = document.getElementById("composer-status");
  status.className = "composer-status error";
  status.textContent = problem;
}

// The ws extension built the frame from the form's fields; decide whether it goes now.
function configSend(evt) {
  const form = evt.target.closest("#composer");
  if (!form) return;
  const { body, client_id: clientId } = evt.detail.parameters;
  // Too long never leaves the page (the server would refuse it, and past 1 MiB drop the socket): say so here.
  const problem = tooLong(body, Number(form.dataset.maxLength));
  if (problem) {
    evt.preventDefault();
    showStatus(problem);
    return;
  }
  if (add(clientId, body)) evt.preventDefault(); // behind a send that waits its turn: it waits too, in order
  // The frame is already built from these values; the next send gets a new id.
  form.elements.body.value = "";
  form.elements.client_id.value = uuid4();
}

let lastTyping = 0;
function typed(evt) {
  if (!evt.target.matches("#composer textarea") || !isConnected() || !evt.target.value.trim()) return;
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

export function start() {
  document.addEventListener("htmx:wsConfigSend", configSend);
  document.addEventListener("input", typed);
  document.addEventListener("keydown", keyDown);
}
