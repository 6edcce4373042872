// The message list: each change placed once, in seq order (the same frame may come live and again in a
// catch-up), the cursor and the gaps it reveals, what differs per viewer (mine, local times, the menu), other
// upserted lists (sidebar, typing), and messages held back until the page of history they belong to is in.
import { arrange } from "./anatomy.js";
import { dateAndTime, timeOfDay } from "./clock.js";
import { newBelow } from "./layout.js";
import { catchUp } from "./socket.js";
import { box, clone, currentRoom, me, within } from "./page.js";
import { bumpMentions, markMentions, mentionsMe } from "./mentions.js";
import { markReactions } from "./reactions.js";
import { markRead, reading } from "./read.js";
import { quotesFollow } from "./replies.js";
import { nearEnd, restorePlace, scrollToEnd } from "./scroll.js";
import { bumpUnread } from "./sidebar.js";

export function decorate(root) {
  within(root, `.message[data-author="${me()}"]`).forEach((m) => m.classList.add("mine"));
  markMentions(root);
  markReactions(root);
  within(root, "article.message[data-author]:not(:has(> .message-menu))").forEach((m) => m.append(clone("message-menu-template")));
  within(root, "time[datetime]").forEach((t) => {
    const d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) {
      t.textContent = timeOfDay(d);
      t.title = dateAndTime(d);
    }
  });
  within(root, "[data-edited]").forEach((e) => {
    const d = new Date(e.dataset.edited);
    if (!isNaN(d)) e.title = e.dataset.editedLabel.replace("{when}", dateAndTime(d));
  });
  if (root === document) arrange(box()); // the page as loaded: its groups and day dividers
}

// Every change in a room has the next number and reaches this page once. The cursor is the highest number
// up to which nothing is missing; a number beyond a gap means a frame was lost, so ask for the gap again.
const ahead = new Set();
let gapTimer = null;
function advance(messages, changed, upto = 0) {
  let cursor = Math.max(Number(messages.dataset.cursor), upto);
  ahead.forEach((n) => n <= cursor && ahead.delete(n));
  if (changed > cursor) ahead.add(changed);
  while (ahead.delete(cursor + 1)) cursor += 1;
  messages.dataset.cursor = cursor;
  if (ahead.size && !gapTimer) {
    gapTimer = setTimeout(() => {
      gapTimer = null;
      if (ahead.size) catchUp();
    }, 1500);
  }
}

const deferred = new Map(); // past the newest loaded page: tried again when the newer page is in

// A newer state of a message (someone reacted, its card came) must not throw away what the reader has open on
// it: its menu, an unsent edit or a report form, the reaction picker go over to the new state, and so does
// the focus. Returns what puts the focus back, once the new state is in the page.
function keepOpen(from, to) {
  const focused = from.contains(document.activeElement) ? document.activeElement : null;
  const open = from.querySelectorAll(
    ":scope > .message-menu, :scope > form.edit:not([data-request]), :scope > form.report, :scope > .reaction-picker",
  );
  open.forEach((part) => to.append(part));
  if (to.querySelector(":scope > form.edit")) to.querySelector(":scope > .body").hidden = true;
  return () => {
    if (!focused) return;
    if (to.contains(focused)) focused.focus();
    else if (focused.matches(".reaction")) {
      to.querySelector(`.reaction[data-emoji="${CSS.escape(focused.dataset.emoji)}"]`)?.focus();
    }
  };
}

// A message in its current state goes in once, in seq order; a newer state replaces it; a tombstone
// removes it. Returns whether it is a new message from someone else (and a truthy "mention" if it mentions me).
function placeMessage(messages, article) {
  const changed = Number(article.dataset.changed);
  advance(messages, changed);
  const existing = document.getElementById(article.id);
  if (existing && Number(existing.dataset.changed) >= changed) return false;
  if (article.classList.contains("deleted")) {
    if (existing) existing.remove();
    quotesFollow(article);
    return false;
  }
  const restoreFocus = existing ? keepOpen(existing, article) : null;
  decorate(article);
  if (existing) {
    existing.replaceWith(article);
    restoreFocus();
    quotesFollow(article);
    return false;
  }
  const seq = Number(article.dataset.seq);
  const placed = messages.querySelectorAll(":scope > article.message[data-seq]");
  const first = placed[0];
  const last = placed[placed.length - 1];
  // Outside what is loaded while more pages remain on that side (an edit far back, a new message while
  // reading from a permalink): it comes with its page instead.
  if (first && seq < Number(first.dataset.seq) && messages.querySelector(":scope > .history-more")) return false;
  if (last && seq > Number(last.dataset.seq) && messages.querySelector(":scope > .history-newer")) {
    deferred.set(article.id, article); // the newer page may have been rendered before it
    return false;
  }
  // Before the first placed message with a higher seq; usually the newest, so check the end first.
  const later =
    !last || Number(last.dataset.seq) < seq
      ? messages.querySelector(":scope > .pending")
      : [...placed].find((m) => Number(m.dataset.seq) > seq);
  messages.insertBefore(article, later || null);
  document.getElementById(`pending-${article.dataset.client}`)?.remove();
  document.getElementById(`typing-${currentRoom()}-${article.dataset.author}`)?.remove();
  if (article.dataset.author === me()) return false;
  return mentionsMe(article) ? "mention" : true;
}

function upsert(list, item) {
  const existing = document.getElementById(item.id);
  if (existing) existing.replaceWith(item);
  else if (list.dataset.upsert === "start") list.prepend(item);
  else list.append(item);
  if (item.classList.contains("typist")) setTimeout(() => item.remove(), 6000); // typing expires
}

// Frames for targets on this page: place them ourselves (ordered, idempotent) instead of appending.
function placeFrame(evt) {
  const target = evt.detail.target;
  if (!target.hasAttribute("data-upsert")) return;
  evt.detail.shouldSwap = false;
  const items = [...evt.detail.fragment.children];
  if (!target.classList.contains("messages")) {
    items.forEach((item) => upsert(target, item));
    return;
  }
  const stickToEnd = nearEnd(target);
  const placed = items.map((a) => placeMessage(target, a));
  const fromOthers = placed.some(Boolean);
  // A catch-up is complete up to the room's last change: nothing below it is missing any more.
  const upto = Number(evt.detail.fragment.getAttribute?.("data-upto") || 0);
  if (upto) advance(target, 0, upto);
  arrange(target);
  if (fromOthers && !reading()) {
    bumpUnread(currentRoom());
    bumpMentions(currentRoom(), placed.filter((p) => p === "mention").length);
  }
  if (stickToEnd) scrollToEnd();
  else if (fromOthers) newBelow();
  markRead();
}

// A page of history came in (htmx): mark it up, place what waited for it, keep the reader's place.
function settled() {
  const messages = box();
  if (messages) decorate(messages);
  if (messages) deferred.forEach((article, id) => deferred.delete(id) && placeMessage(messages, article));
  arrange(messages);
  restorePlace();
  markRead();
}

export function start() {
  document.addEventListener("htmx:oobBeforeSwap", placeFrame);
  document.addEventListener("htmx:afterSettle", settled);
}
