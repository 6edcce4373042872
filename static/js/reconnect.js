// When the page dials its socket again after a drop: at once when the browser says it is online again or the
// tab comes back into view, within about a second through a cheap probe while the server cannot be reached,
// and with a growing pause when the server itself asks to wait (1011, 1013).
//
// The ws extension schedules each reconnection with a timer that cannot be shortened once set, and calling
// its reconnect() meanwhile would leave that timer to close the new socket later. So the extension's own
// delay is 0 and the socket it gets from htmx.createWebSocket (its hook for this) is a Line: it looks like
// a WebSocket to the extension but dials only when this module says so.

const PROBE_EVERY = 1000; // ms between probes while the server cannot be reached
const DIAL_TIMEOUT = 5000; // a dial not open by then is given up (a network that swallows packets) and retried
const HEALTHY_AFTER = 5000; // a socket open this long, then dropped, was fine: its first redial is at once
const BUSY = [1011, 1013, 4013]; // the server answered and asked to wait: back off, do not probe

let failures = 0; // dials in a row that did not end well
let waiting = null; // the Line the extension holds while it waits to dial
let dialing = null; // the Line dialled and not yet open
let lastDialAt = 0;
let lastCode = 0;
let dialNow = false; // the next Line dials at once (a deliberate replacement)
let timer = null;
let probeTimer = null;
let offlineWhileOpen = false;
let openLine = null;
const probeUrl = new URL(import.meta.url); // this small static file: same origin, no database, no session

// Full jitter on a doubling pause, as the extension's default, but from 0.5 s and at most 15 s.
const backoff = (n) => Math.min(500 * 2 ** (n - 1), 15000) * (0.5 + Math.random() / 2);

class Line extends EventTarget {
  CONNECTING = 0;
  OPEN = 1;
  CLOSING = 2;
  CLOSED = 3;

  constructor(url) {
    super();
    this.url = url;
    this.readyState = this.CONNECTING;
    this.binaryType = htmx.config.wsBinaryType;
    this.ws = null;
    this.onopen = this.onmessage = this.onerror = this.onclose = null;
    // The extension sets the on* handlers and adds "message" listeners: call the handlers first, as a
    // WebSocket does for handlers set before its listeners are added.
    for (const type of ["open", "message", "error", "close"]) {
      this.addEventListener(type, (evt) => this[`on${type}`]?.(evt));
    }
  }

  dial() {
    const ws = new WebSocket(this.url);
    ws.binaryType = this.binaryType;
    this.ws = ws;
    this.openedAt = 0;
    ws.onopen = () => {
      this.readyState = this.OPEN;
      this.openedAt = Date.now();
      this.dispatchEvent(new Event("open"));
    };
    ws.onmessage = (evt) => this.dispatchEvent(new MessageEvent("message", { data: evt.data }));
    ws.onerror = () => this.dispatchEvent(new Event("error"));
    ws.onclose = (evt) => {
      this.readyState = this.CLOSED;
      // Closed on purpose (replaced, or the page leaving): said so with the code it was closed with, whatever
      // the wire made of it (a dead connection's close ends in 1006, which the extension would reconnect on).
      const code = this.closedWith ?? evt.code;
      ended(this, code, this.closedWith === undefined);
      this.dispatchEvent(new CloseEvent("close", { code, reason: evt.reason, wasClean: evt.wasClean }));
    };
  }

  send(data) {
    this.ws.send(data);
  }

  close(code, reason) {
    if (this.readyState === this.CLOSED) return;
    this.closedWith = code ?? 1005;
    if (this.ws) {
      this.readyState = this.CLOSING;
      this.ws.close(code, reason);
    } else {
      // Never dialled (the page is going away): closed as the browser would close it, without reconnecting.
      this.readyState = this.CLOSED;
      if (waiting === this) stopWaiting();
      queueMicrotask(() => this.dispatchEvent(new CloseEvent("close", { code: 1005, wasClean: true })));
    }
  }
}

function stopWaiting() {
  clearTimeout(timer);
  clearTimeout(probeTimer);
  timer = probeTimer = null;
  waiting = null;
}

function dial() {
  const line = waiting;
  if (!line) return;
  stopWaiting();
  dialing = line;
  lastDialAt = Date.now();
  line.dial();
  // Packets going nowhere leave a dial hanging for minutes: give it up and try again (the probe meanwhile).
  setTimeout(() => {
    if (dialing === line && line.readyState === line.CONNECTING) line.ws.close();
  }, DIAL_TIMEOUT);
}

// A dial ended: it opened and later closed, or never opened. `counted`: not closed on purpose.
function ended(line, code, counted) {
  if (dialing === line) dialing = null;
  if (openLine === line) openLine = null;
  if (!counted) return;
  lastCode = code;
  const healthy = line.openedAt && Date.now() - line.openedAt > HEALTHY_AFTER && !BUSY.includes(code);
  failures = healthy ? 0 : failures + 1;
}

// The extension asks for a socket (the first, or after a close): decide when it dials.
function waitToDial(line) {
  waiting = line;
  const deliberate = dialNow;
  dialNow = false;
  if (deliberate || !lastCode) return dial(); // a replacement, or the page's first socket
  // A good connection dropped: again soon, spread out a little so a restarted server is not hit all at once.
  if (failures === 0) {
    timer = setTimeout(dial, Math.random() * 300);
    return;
  }
  timer = setTimeout(dial, backoff(failures));
  if (!BUSY.includes(lastCode)) probeSoon();
}

// While the server cannot be reached: ask for this small file every second; any answer means it can be again.
function probeSoon() {
  clearTimeout(probeTimer);
  probeTimer = setTimeout(probe, PROBE_EVERY * (0.8 + Math.random() * 0.4));
}

async function probe() {
  probeTimer = null;
  if (!waiting || !navigator.onLine || document.visibilityState === "hidden") return; // online/visible wake it
  const url = new URL(probeUrl);
  url.searchParams.set("probe", Date.now()); // past every cache
  try {
    await fetch(url, { method: "HEAD", cache: "no-store", signal: AbortSignal.timeout(PROBE_EVERY * 2) });
    if (waiting) dial();
  } catch {
    if (waiting) probeSoon();
  }
}

// Something says the network may be back: dial a waiting Line now, or give up a dial that has hung for a
// while and dial again at once.
function wake() {
  if (waiting) {
    dial();
  } else if (dialing && Date.now() - lastDialAt > 1000) {
    dialNow = true;
    dialing.ws.close();
  }
}

// Online again after being offline while the socket stayed open: that socket may be dead (a new network).
function online(replace) {
  if (openLine && offlineWhileOpen) replace();
  else wake();
  offlineWhileOpen = false;
}

// `replace()` opens a fresh socket in place of the open one (socket.js's replaceHalfDead).
export function install(replace) {
  htmx.config.wsReconnectDelay = () => 0; // the Line waits, not the extension's timer
  htmx.createWebSocket = (url) => {
    const line = new Line(url);
    line.addEventListener("open", () => {
      dialing = null;
      openLine = line;
      offlineWhileOpen = false;
    });
    waitToDial(line);
    return line;
  };
  addEventListener("online", () => online(replace));
  addEventListener("offline", () => {
    if (openLine) offlineWhileOpen = true;
  });
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && wake());
}

// The next socket the extension asks for dials at once (socket.js replacing a half-dead one).
export function dialNextAtOnce() {
  dialNow = true;
}
