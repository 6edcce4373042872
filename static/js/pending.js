// Sends the server has not answered yet, each shown as itself at the end of the messages, in the order written,
// until the server has it. They go out one at a time (an answer before the next, so they are stored in order)
// and no faster than the server's flood control allows (a mirror of its bucket), so the sends queued while
// offline are not refused when the connection is back. Flood control's "retry" holds a send, and every later
// one, until its wait is over. A refusal with a reason stays on its own message, with Send again, Copy and
// Dismiss; it is never put back in the composer (where several would run together). Unanswered sends are kept
// in the browser (drafts.js): after a reload they come back as "not sent", unless the page shows them stored.
import * as drafts from "./drafts.js";
import { box, clone } from "./page.js";
import { scrollToEnd } from "./scroll.js";
import { catchUp, isConnected, replaceHalfDead, sendText } from "./socket.js";
import { text } from "./strings.js";

// client id -> { body, frame, state, until, note, live }, in the order written. state: "queued" (goes when
// its turn comes), "out" (sent, no answer yet), "held" (flood control: not before `until`), "stuck" (refused,
// or not known to have been sent: only the person sends it again). `live`: written while connected.
const pending = new Map();
let stopped = false; // the socket was closed for good: nothing more goes out from this page

// The server's bucket for writes (realtime/limits.py, GCRA), as the page was told it: `burst` at once, then
// one every `interval` ms. A send is counted when its answer comes (the server counted it before answering:
// after a reconnect its first send waits behind the catch-up there), and a little slower than the server, so
// the wire's jitter cannot make two sends look closer together there than they were here.
const MARGIN = 50;
let limits = null;
let tat = 0; // the bucket's theoretical arrival time (ms), as the server keeps it
function limit() {
  if (!limits) {
    const data = document.getElementById("roomcast-strings")?.dataset ?? {};
    limits = { burst: Number(data.sendBurst) || 0, interval: (Number(data.sendInterval) || 0) + MARGIN };
  }
  return limits;
}
function bucketWait() {
  const { burst, interval } = limit();
  return burst > 0 ? Math.max(0, Math.max(tat, Date.now()) - Date.now() - (burst - 1) * interval) : 0;
}
function take() {
  tat = Math.max(tat, Date.now()) + limit().interval;
}
// The server said its next slot is `ms` away: so is the mirror's.
function drain(ms) {
  tat = Date.now() + ms + (limit().burst - 1) * limit().interval;
}

const article = (clientId) => document.getElementById(`pending-${clientId}`);
const stored = (clientId) => document.querySelector(`.messages article.message[data-client="${CSS.escape(clientId)}"]`);

function show(clientId) {
  const send = pending.get(clientId);
  const copy = article(clientId);
  if (!send || !copy) return;
  const key = { queued: "sending", out: "sending", held: "waiting", stuck: "not-sent" }[send.state];
  copy.querySelector(".pending-state").textContent = text(send.waiting && send.state === "queued" ? "waiting" : key);
  copy.classList.toggle("stuck", send.state === "stuck");
  copy.querySelector(".pending-problem").hidden = send.state !== "stuck";
  copy.querySelector(".pending-note").textContent = send.note || "";
  copy.querySelector(".pending-retry").disabled = stopped;
}

const save = () =>
  drafts.saveUnsent(
    [...pending].map(([id, send]) => ({
      id,
      body: send.body,
      note: send.note || "",
      replyTo: send.replyTo,
      files: send.files,
    })),
  );

// What goes on the wire: the composer's fields (reply_to only for a reply, files only with files).
const frameOf = (clientId, body, replyTo, files) =>
  JSON.stringify({
    body,
    client_id: clientId,
    ...(replyTo ? { reply_to: replyTo } : {}),
    ...(files?.ids ? { files: files.ids } : {}),
  });

function append(clientId) {
  const messages = box();
  if (!messages) return;
  const copy = clone("pending-message-template");
  copy.id = `pending-${clientId}`;
  copy.dataset.clientId = clientId;
  const { body, files } = pending.get(clientId);
  copy.querySelector(".body").textContent = body;
  if (files?.names?.length) copy.querySelector(".pending-files").textContent = text("files-attached", { names: files.names.join(", ") });
  messages.append(copy);
  show(clientId);
}

// The composer's send: it waits its turn. `live`: written while connected (so a wait is the person's pace).
export function add(clientId, body, replyTo = "", files = null) {
  pending.set(clientId, {
    body,
    replyTo,
    files,
    frame: frameOf(clientId, body, replyTo, files),
    state: "queued",
    live: isConnected(),
  });
  append(clientId);
  scrollToEnd();
  save();
  pump();
}

// Flood control, as the server would say it, when the person writes faster than it allows.
function tooFast(ms) {
  const status = document.getElementById("composer-status");
  if (!status) return;
  status.className = "composer-status error";
  status.textContent = text("too-fast", { seconds: Math.max(1, Math.ceil(ms / 1000)) });
}

// Send the next one if nothing is awaiting an answer, its hold is over and the bucket has room; else try
// again when it will.
let pumpTimer = null;
function pump() {
  clearTimeout(pumpTimer);
  pumpTimer = null;
  if (!isConnected() || stopped) return;
  const sends = [...pending];
  if (sends.some(([, send]) => send.state === "out")) return;
  const next = sends.find(([, send]) => send.state === "queued" || send.state === "held");
  if (!next) return;
  const [clientId, send] = next;
  const wait = Math.max(send.state === "held" ? send.until - Date.now() : 0, bucketWait());
  if (wait > 0) {
    for (const [id, later] of sends) {
      if (later.state === "queued") {
        later.waiting = true;
        show(id);
      }
    }
    if (send.live && send.state === "queued") tooFast(wait);
    pumpTimer = setTimeout(pump, wait);
    return;
  }
  send.state = "out";
  send.waiting = false;
  show(clientId);
  sendText(send.frame);
  watch(clientId);
}

// A send with no answer for 10 s while "connected" means a half-dead connection (a phone changing
// networks): open a fresh one, which sends it again.
function watch(clientId) {
  setTimeout(() => {
    if (pending.get(clientId)?.state === "out" && isConnected()) replaceHalfDead();
  }, 10000);
}

// On every open: what went out before the drop but was never answered goes again (same client id, so the
// server stores it once), in its place in the queue.
export function resume() {
  for (const [clientId, send] of pending) {
    if (send.state === "out") {
      send.state = "queued";
      show(clientId);
    }
  }
  pump();
}

// The socket was closed for good (signed out, banned, the conversation gone): nothing more goes out, and
// every unsent message stays on the page to copy. The browser keeps them already (each change is saved), to
// offer after signing in again; not saved again here, where logging out in another tab has just forgotten them.
export function stop() {
  stopped = true;
  clearTimeout(pumpTimer);
  for (const [clientId, send] of pending) {
    send.state = "stuck";
    show(clientId);
  }
}

// Stored after all (the message itself is on the page): nothing left to send. A send awaiting its answer
// waits for it (the answer counts in the bucket).
function settleArrived() {
  for (const [clientId, send] of [...pending]) {
    if (send.state !== "out" && stored(clientId)) {
      pending.delete(clientId);
      article(clientId)?.remove();
      save();
    }
  }
}

// After each frame: the server's answer to a send is the #composer-status fragment naming its client id.
export function settleStatus() {
  settleArrived();
  const status = document.getElementById("composer-status");
  const clientId = status?.dataset.clientId;
  if (clientId) delete status.dataset.clientId;
  const send = clientId && pending.get(clientId);
  if (!send) return pump(); // not about a send of this page's, or already settled
  if (status.dataset.retry) {
    // Flood control: not now. It stays as itself and goes again (same client id) after the wait, first.
    const wait = Number(status.dataset.retry);
    Object.assign(send, { state: "held", until: Date.now() + wait });
    drain(wait);
    show(clientId);
    return pump();
  }
  take(); // stored or refused, it went through flood control
  if (status.dataset.ok === "1") {
    pending.delete(clientId);
    save();
    if (box()?.querySelector(":scope > .history-newer")) {
      location.assign(location.pathname); // sent from an old part of the history: show it at the end
      return;
    }
    // Normally the message itself arrives right after; if it does not, the catch-up brings it.
    setTimeout(() => {
      if (article(clientId) && !pending.has(clientId)) {
        article(clientId).remove();
        catchUp();
      }
    }, 3000);
  } else {
    Object.assign(send, { state: "stuck", note: status.textContent });
    show(clientId);
    save();
  }
  pump();
}

// Unanswered sends kept from before this page (a reload, another room, a sign-out): not sent as far as this
// page knows. Those the page shows stored are forgotten.
export function restore() {
  if (!box()) return;
  for (const { id, body, note, replyTo, files } of drafts.loadUnsent()) {
    if (typeof id !== "string" || typeof body !== "string" || pending.has(id) || stored(id)) continue;
    const reply = typeof replyTo === "string" ? replyTo : "";
    const attached = typeof files?.ids === "string" && Array.isArray(files.names) ? files : null;
    const frame = frameOf(id, body, reply, attached);
    pending.set(id, { body, replyTo: reply, files: attached, frame, state: "stuck", note });
    append(id);
  }
  save();
}

function copied(button) {
  button.textContent = text("copied");
  setTimeout(() => (button.textContent = button.dataset.label), 2000);
}

// Send again, Copy, Dismiss, on a message that was not sent.
function clicked(evt) {
  const button = evt.target.closest(".pending-problem button");
  if (!button) return;
  const copy = button.closest(".pending");
  const clientId = copy.dataset.clientId;
  const send = pending.get(clientId);
  if (!send) return;
  if (button.classList.contains("pending-retry")) {
    if (stopped) return;
    Object.assign(send, { state: "queued", note: "", live: isConnected() });
    show(clientId);
    save();
    pump();
  } else if (button.classList.contains("pending-copy")) {
    button.dataset.label ??= button.textContent;
    // The clipboard needs a secure context: elsewhere, select the text for the person to copy.
    const select = () => getSelection().selectAllChildren(copy.querySelector(".body"));
    if (navigator.clipboard) navigator.clipboard.writeText(send.body).then(() => copied(button), select);
    else select();
  } else if (button.classList.contains("pending-dismiss")) {
    pending.delete(clientId);
    copy.remove();
    save();
  }
}

export function start() {
  document.addEventListener("click", clicked);
}
