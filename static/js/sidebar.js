// The sidebar: the room on screen marked current, and unread counts (and mention badges) raised by new
// messages from others in rooms not on this page (the latest direct conversation moves to the top).
import { bumpMentions, mentionsMe } from "./mentions.js";
import { currentRoom, me } from "./page.js";

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

export function start() {
  document.addEventListener("htmx:oobErrorNoTarget", countUnplaced);
}
