// Where the reader looks: near the end or not, following new messages, the place on first load (a
// permalink's message, the "New messages" line, or the end), and the place kept while older pages load above.
import { box } from "./page.js";

export function nearEnd(messages) {
  return messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
}

// Not while a newer page is still to load: the end of what is loaded is not the end of the room.
export function scrollToEnd() {
  const messages = box();
  if (messages && !messages.querySelector(":scope > .history-newer")) messages.scrollTop = messages.scrollHeight;
}

export function showStartingPlace() {
  const target = location.hash.startsWith("#msg-") && document.getElementById(location.hash.slice(1));
  const divider = document.getElementById("unread-divider");
  if (target) {
    target.classList.add("highlight");
    target.scrollIntoView({ block: "center" });
  } else if (divider) {
    divider.scrollIntoView({ block: "start" });
  } else {
    scrollToEnd();
  }
}

// Older pages load above what is on screen: remember the distance from the end before, restore it after.
let keep = null;
function rememberPlace(evt) {
  if (evt.detail.target.matches(".history-more")) {
    const messages = evt.detail.target.parentElement;
    keep = { messages, fromEnd: messages.scrollHeight - messages.scrollTop };
  }
}

export function restorePlace() {
  if (keep) {
    keep.messages.scrollTop = keep.messages.scrollHeight - keep.fromEnd;
    keep = null;
  }
}

export function start() {
  document.addEventListener("htmx:beforeSwap", rememberPlace);
}
