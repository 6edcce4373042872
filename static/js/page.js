// What every part of the page script reads: who I am, which room is on screen, its message list, the
// server-rendered <template>s (templates/rooms/client_templates.html) and fresh client ids.

export const me = () => document.body.dataset.userId;
export const currentRoom = () => document.body.dataset.roomId;
export const box = () => currentRoom() && document.getElementById(`messages-${currentRoom()}`);

// `root` is the document, a page of history or one message: look at it and inside it.
export const within = (root, selector) => [
  ...(root.matches?.(selector) ? [root] : []),
  ...root.querySelectorAll(selector),
];

// A copy of a server-rendered <template>'s element, owned by this document (ready to fill and insert).
export const clone = (id) => document.importNode(document.getElementById(id).content.firstElementChild, true);

// Client ids make a replayed send idempotent. crypto.randomUUID needs a secure context; this does not.
export function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// A menu or picker opened on a message near the bottom of the list would be cut off by it (new messages are
// at the bottom, so that is the usual case): it opens upward there instead, when there is more room above.
export function fitInList(element, part = element) {
  const list = element.closest(".messages");
  if (!list) return;
  element.classList.remove("up");
  const box = part.getBoundingClientRect();
  const room = list.getBoundingClientRect();
  if (box.bottom > room.bottom && box.top - room.top > room.bottom - box.top) element.classList.add("up");
}
