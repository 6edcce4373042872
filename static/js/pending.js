// Sends the server has not answered yet. Each shows at once as "sending…" and is kept under its client id
// until the answer: stored (the copy goes), refused (the text goes back in the composer), or flood control's
// "retry" (held: it and every later send wait their turn, in order). A drop before the answer resends it.
import { box, clone } from "./page.js";
import { scrollToEnd } from "./scroll.js";
import { catchUp, isConnected, replaceHalfDead, sendText } from "./socket.js";
import { text } from "./strings.js";

const pending = new Map(); // client id -> { body, frame, wentOut, held }, in the order they were written

const showState = (clientId, key) =>
  document.getElementById(`pending-${clientId}`)?.querySelector(".muted")?.replaceChildren(text(key));

// Flood control said "not yet" to a send: it and every later one wait, in order, and go one at a time
// once the wait is over (each answer lets the next go, or says to wait again).
let holdTimer = null;
const isHeld = () => [...pending.values()].some((send) => send.held);
function holdUntil(ms) {
  clearTimeout(holdTimer);
  holdTimer = setTimeout(releaseNext, ms);
}
function releaseNext() {
  holdTimer = null;
  const next = [...pending].find(([, send]) => send.held);
  if (!next) return;
  const [clientId, send] = next;
  send.held = false;
  showState(clientId, "sending");
  send.wentOut = true; // if disconnected, it goes with the other unanswered sends when the socket reopens
  if (isConnected()) {
    sendText(send.frame);
    watch(clientId);
  }
}

// A send with no answer for 10 s while "connected" means a half-dead connection (a phone changing
// networks): open a fresh one, which sends it again.
function watch(clientId) {
  setTimeout(() => {
    if (pending.get(clientId)?.wentOut && isConnected()) replaceHalfDead();
  }, 10000);
}

// A send the composer's form is about to make. Returns true when it must wait behind a held one instead.
export function add(clientId, body) {
  const held = isHeld();
  const frame = JSON.stringify({ body, client_id: clientId });
  pending.set(clientId, { body, frame, wentOut: isConnected() && !held, held });
  if (!held) watch(clientId);
  const messages = box();
  if (messages && body.trim()) {
    const article = clone("pending-message-template");
    article.id = `pending-${clientId}`;
    article.querySelector(".muted").textContent = text(held ? "waiting" : "sending");
    article.querySelector(".body").textContent = body;
    messages.append(article);
    scrollToEnd();
  }
  return held;
}

// On every open: send again, same client id, what went out before the drop but was never answered.
export function resendUnanswered() {
  for (const [clientId, send] of pending) {
    if (send.wentOut) {
      sendText(send.frame);
      watch(clientId);
    }
  }
}

// Queued sends go out when the socket opens: from then on they too are "sent, awaiting an answer".
function sent(evt) {
  const clientId = JSON.parse(evt.detail.message).client_id;
  if (pending.has(clientId)) pending.get(clientId).wentOut = true;
}

// The server's answer to a send is the #composer-status fragment, naming the send's client id.
export function settleStatus() {
  const status = document.getElementById("composer-status");
  const form = document.getElementById("composer");
  const clientId = status?.dataset.clientId;
  if (!clientId || !form) return; // not about a send, or already handled
  delete status.dataset.clientId;
  const send = pending.get(clientId);
  if (status.dataset.retry && send) {
    // Flood control: not now. It stays pending, as itself, and goes again (same client id) after the wait.
    send.held = true;
    send.wentOut = false;
    showState(clientId, "waiting");
    holdUntil(Number(status.dataset.retry));
    return;
  }
  pending.delete(clientId);
  if (isHeld() && !holdTimer) releaseNext(); // an answer lets the next waiting send go
  if (status.dataset.ok === "1") {
    if (box()?.querySelector(":scope > .history-newer")) {
      location.assign(location.pathname); // sent from an old part of the history: show it at the end
      return;
    }
    // Normally the message itself arrives right after; if it does not, the catch-up brings it.
    setTimeout(() => {
      const copy = document.getElementById(`pending-${clientId}`);
      if (copy) {
        copy.remove();
        catchUp();
      }
    }, 3000);
    return;
  }
  document.getElementById(`pending-${clientId}`)?.remove();
  if (send) {
    const input = form.elements.body;
    input.value = input.value ? `${send.body}\n${input.value}` : send.body;
  }
}

export function start() {
  document.addEventListener("htmx:wsAfterSend", sent);
}
