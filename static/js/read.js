// Read state: the read mark sent while the page is really being read (at most one a second), and the
// "New messages" line moved to what arrived while the tab was hidden.
import { box, clone } from "./page.js";
import { nearEnd } from "./scroll.js";
import { isConnected, wsSend } from "./socket.js";

// Read means seen: the page is in front, scrolled to the end, and showing the latest messages.
export function reading() {
  const messages = box();
  return (
    !!messages &&
    document.visibilityState === "visible" &&
    nearEnd(messages) &&
    !messages.querySelector(":scope > .history-newer")
  );
}

// At most one read mark a second (the latest): a busy room must not spend the socket's frame budget,
// which its sends share, on a mark per message.
let lastRead = 0;
let lastReadAt = 0;
let readTimer = null;
export function markRead() {
  if (!reading() || !isConnected()) return;
  const wait = lastReadAt + 1000 - Date.now();
  if (wait > 0) {
    readTimer ??= setTimeout(() => {
      readTimer = null;
      markRead();
    }, wait);
    return;
  }
  const last = [...box().querySelectorAll(":scope > article.message[data-seq]")].at(-1);
  const seq = last ? Number(last.dataset.seq) : 0;
  if (seq > lastRead) {
    lastRead = seq;
    lastReadAt = Date.now();
    wsSend({ action: "read", seq });
  }
}

// A new socket knows nothing of the marks the old one sent: mark again.
export function markReadAfterOpen() {
  lastRead = 0;
  markRead();
}

// Away and back: the "New messages" line moves to the first message that arrived while the page was hidden.
let seenUpTo = null;
function visibilityChanged() {
  const messages = box();
  if (!messages) return;
  if (document.visibilityState === "hidden") {
    const last = [...messages.querySelectorAll(":scope > article.message[data-seq]")].at(-1);
    seenUpTo = last ? Number(last.dataset.seq) : 0;
  } else if (seenUpTo !== null) {
    const first = [...messages.querySelectorAll(":scope > article.message[data-seq]:not(.mine)")].find(
      (m) => Number(m.dataset.seq) > seenUpTo,
    );
    if (first) first.before(document.getElementById("unread-divider") || clone("unread-divider-template"));
    seenUpTo = null;
  }
  markRead();
}

export function start() {
  document.addEventListener("visibilitychange", visibilityChanged);
  document.addEventListener("scroll", (evt) => evt.target.matches?.(".messages") && markRead(), true);
}
