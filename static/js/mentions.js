// Mentions: the stored HTML is the same for every reader, and a mention link carries the id of whom it names,
// so each page finds its own: a message that names me, or says @here, is highlighted for me (CSS:
// .mentions-me), and a new one raises the room's mention badge beside its unread count.
import { me, within } from "./page.js";

const names = (article) => !!article.querySelector(`.body a.mention[data-user="${me()}"]`);

// @here reaches the people with the room open: it counts for this page's own room only.
export const mentionsMe = (article, here = true) =>
  article.dataset.author !== me() && (names(article) || (here && !!article.querySelector(".body .mention-here")));

export function markMentions(root) {
  within(root, "article.message[data-author]").forEach((a) => a.classList.toggle("mentions-me", mentionsMe(a)));
}

export function bumpMentions(roomId, by = 1) {
  const count = document.getElementById(`mentions-${roomId}`);
  if (count && by) count.textContent = `@${(parseInt(count.textContent.slice(1), 10) || 0) + by}`;
}
