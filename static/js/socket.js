// The socket: the ws extension's wrapper, sending (queued until the first open), catch-up requests, the
// connection bar for every close code (4012/4013 are daphne's 1012/1013), and replacing a half-dead socket.
import { box } from "./page.js";
import { text } from "./strings.js";

// Reconnect sooner than the extension's default (full jitter up to 64 s): a chat should come back fast.
htmx.config.wsReconnectDelay = (retry) => Math.min(500 * 2 ** retry, 15000) * (0.5 + Math.random() / 2);

let socket = null; // the ws extension's wrapper: it queues while disconnected and replays on open
let connected = false;
let replacing = false; // we closed a half-dead socket ourselves (1005) and a new one is on its way
const early = [];
const openHandlers = [];

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

// A send unanswered while "connected" (a phone changing networks): open a fresh socket, which resends it.
export function replaceHalfDead() {
  replacing = true;
  socket.reconnect();
}

const RECONNECTING = [1006, 1011, 1012, 1013, 4012, 4013];
const FATAL = { 4401: "signed-out", 4403: "signed-out", 4404: "not-available", 4429: "too-many-pages" };

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
// 4012/4013 (it refuses 1012/1013 from an application), on which we reconnect ourselves.
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
  if (code === 4012 || code === 4013) {
    setTimeout(() => evt.detail.socketWrapper.reconnect(), htmx.config.wsReconnectDelay(0));
  }
  if (RECONNECTING.includes(code)) {
    bar.textContent = text("reconnecting");
  } else if (code in FATAL) {
    bar.classList.add("fatal");
    bar.textContent = text(FATAL[code]);
  } else {
    bar.textContent = text("disconnected");
  }
}

// Too much was missed to replay (the server's reload frame): load the room afresh, at its latest messages
// even from a permalink.
export function reloadIfTooFarBehind() {
  if (document.querySelector("#connection[data-reload]")) location.assign(location.pathname);
}

export function start() {
  document.addEventListener("htmx:wsOpen", opened);
  document.addEventListener("htmx:wsClose", closed);
}
