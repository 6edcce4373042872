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

// A group conversation's entry names all its people, the same for each of them: leave out the reader.
function nameGroups(root) {
  within(root, `.people-names .person[data-user="${me()}"]`).forEach((p) => p.remove());
}

export function start() {
  document.addEventListener("htmx:oobErrorNoTarget", countUnplaced);
  document.addEventListener("htmx:wsAfterMessage", () => nameGroups(document)); // a new group pushed in
  document.addEventListener("DOMContentLoaded", () => nameGroups(document));
  document.addEventListener("click", (evt) => evt.target.closest(".notice-close")?.closest(".notice")?.remove());
}
