// The socket: the ws extension's wrapper, sending (queued until the first open), catch-up requests, the
// connection bar for every close code (4012/4013 are daphne's 1012/1013), closes that are final, and replacing
// a half-dead socket. When it dials again after a drop is reconnect.js's.
import { box } from "./page.js";
import * as reconnect from "./reconnect.js";
import { text } from "./strings.js";

let socket = null; // the ws extension's wrapper: it queues while disconnected and replays on open
let connected = false;
let replacing = false; // we closed a half-dead socket ourselves (1005) and a new one is on its way
const early = [];
const openHandlers = [];
const finalHandlers = [];

export const isConnected = () => connected;

// A frame already serialized (a pending send keeps its exact frame, so a resend is byte-for-byte the same).
export function sendText(frame) {
  if (socket) socket.send(frame);
  else early.push(frame);
}

export const wsSend = (payload) => sendText(JSON.stringify(payload));

export function catchUp() {
  const messages = box();
  wsSend({ action: "catch_up", after: messages ? Number(messages.dataset.cursor) : 0 });
}

// Called on every open, in the order registered, after the catch-up request and the early frames.
export const onOpen = (handler) => openHandlers.push(handler);
// Called once if the socket is closed for good, with the key of the page's string saying why.
export const onFinalClose = (handler) => finalHandlers.push(handler);

// A send unanswered while "connected" (a phone changing networks): open a fresh socket, which resends it.
export function replaceHalfDead() {
  if (!socket || replacing) return;
  replacing = true;
  reconnect.dialNextAtOnce();
  socket.reconnect();
}

reconnect.install(replaceHalfDead);

const RECONNECTING = [1006, 1011, 1012, 1013, 4012, 4013];
// Closes after which the page cannot chat until it is reloaded: the bar's words and the composer's.
const FINAL = {
  4401: ["signed-out", "closed-signed-out"],
  4403: ["signed-out", "closed-forbidden"],
  4404: ["not-available", "closed-not-available"],
  4429: ["too-many-pages", "closed-too-many-pages"],
};

let lastFrameAt = 0;

function opened(evt) {
  socket = evt.detail.socketWrapper;
  connected = true;
  document.getElementById("connection").hidden = true;
  // Before the extension replays its offline queue: ask for everything this page has not seen; the open
  // handlers then send again what went out before the drop but was never acknowledged.
  catchUp();
  early.splice(0).forEach((frame) => socket.send(frame));
  openHandlers.forEach((handler) => handler());
}

// The extension reconnects by itself on 1006/1011/1012/1013; 4xxx closes are final, except daphne's
// 4012/4013 (it refuses 1012/1013 from an application), on which we reconnect ourselves (reconnect.js then
// decides when it dials).
function closed(evt) {
  const code = evt.detail.event.code;
  if (replacing && code === 1005) {
    replacing = false;
    return;
  }
  connected = false;
  const bar = document.getElementById("connection");
  bar.hidden = false;
  bar.className = "connection";
  if (code === 4012 || code === 4013) setTimeout(() => evt.detail.socketWrapper.reconnect());
  if (RECONNECTING.includes(code)) {
    bar.textContent = text("reconnecting");
  } else if (code in FINAL) {
    const [barText, composerText] = FINAL[code];
    bar.classList.add("fatal");
    bar.textContent = text(barText);
    finalHandlers.splice(0).forEach((handler) => handler(composerText));
  } else {
    bar.textContent = text("disconnected");
  }
}

// Back in view after a while: a socket that looks open may have died unnoticed (a laptop asleep). A catch-up
// asks for what was missed and proves the socket alive; no frame within a few seconds, a fresh one.
let hiddenAt = 0;
function visibilityChanged() {
  if (document.visibilityState === "hidden") {
    hiddenAt = Date.now();
    return;
  }
  if (!connected || !hiddenAt || Date.now() - hiddenAt < 30000) return;
  const askedAt = Date.now();
  catchUp();
  setTimeout(() => {
    if (connected && lastFrameAt < askedAt) replaceHalfDead();
  }, 5000);
}

// Too much was missed to replay (the server's reload frame): load the room afresh, at its latest messages
// even from a permalink.
export function reloadIfTooFarBehind() {
  if (document.querySelector("#connection[data-reload]")) location.assign(location.pathname);
}

export function start() {
  document.addEventListener("htmx:wsOpen", opened);
  document.addEventListener("htmx:wsClose", closed);
  document.addEventListener("htmx:wsBeforeMessage", () => (lastFrameAt = Date.now()));
  document.addEventListener("visibilitychange", visibilityChanged);
}
