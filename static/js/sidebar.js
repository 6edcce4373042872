// The sidebar: the room on screen marked current, unread counts (and mention badges) raised by new messages
// from others in rooms not on this page (the latest conversation moves to the top), group conversations named
// by their other people, and live notices dismissed.
import { bumpMentions, mentionsMe } from "./mentions.js";
import { currentRoom, me, within } from "./page.js";

export function bumpUnread(roomId) {
  const count = document.getElementById(`unread-${roomId}`);
  if (count) count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
}

export function markCurrentRoom() {
  const room = currentRoom();
  if (room) document.querySelector(`#room-${room}, #dm-${room}`)?.classList.add("current");
}

// A room's frame with no list on this page to land in: htmx reports it instead of swapping it.
function countUnplaced(evt) {
  const frame = evt.detail.content;
  if (!frame?.id?.startsWith("messages-")) return;
  const roomId = frame.dataset.room;
  for (const a of frame.querySelectorAll("article.message:not(.deleted)")) {
    if (a.dataset.seq !== a.dataset.changed) continue; // an edit, not a new message
    if (a.dataset.author !== me()) bumpUnread(roomId);
    if (mentionsMe(a, false)) bumpMentions(roomId);
    const dm = document.getElementById(`dm-${roomId}`);
    if (dm) dm.parentElement.prepend(dm);
  }
}

// What the server renders the same for everyone, made this reader's: a group conversation's entry names all
// its people (leave out the reader), a members panel offers to remove everyone (not oneself), and a notice
// that this page's room was lost is already said by the room's own page (not twice).
function personalize(root) {
  within(root, `.people-names .person[data-user="${me()}"]`).forEach((p) => p.remove());
  within(root, `.members-panel li[data-user="${me()}"] .remove-member`).forEach((f) => f.remove());
  within(root, `#notices .notice[data-room="${currentRoom()}"]`).forEach((n) => n.remove());
}

// Leaving, removing someone, archiving: asked once more (the form's data-confirm), since none is undone by a
// click. A form pushed over the socket (a members panel) was rendered without a request: it takes the page's
// CSRF token.
function beforeSubmit(evt) {
  const question = evt.target.dataset?.confirm;
  if (question && !window.confirm(question)) {
    evt.preventDefault();
    return;
  }
  const token = evt.target.querySelector?.("input[name=csrfmiddlewaretoken]");
  if (token && !token.value) token.value = document.body.dataset.csrfToken;
}

export function start() {
  document.addEventListener("htmx:oobErrorNoTarget", countUnplaced);
  document.addEventListener("htmx:wsAfterMessage", () => personalize(document)); // pushed in
  document.addEventListener("DOMContentLoaded", () => personalize(document));
  document.addEventListener("click", (evt) => evt.target.closest(".notice-close")?.closest(".notice")?.remove());
  document.addEventListener("submit", beforeSubmit, true);
}
