// The message list's shape, the same for every reader's copy of the frames: a person's lines within a few
// minutes form one group (one avatar and name), and a divider starts each day, in the reader's zone. Run
// again over the whole list after every change: dividers are removed and put back where they now belong.
import { day, dayLabel } from "./clock.js";

const GROUP_MS = 5 * 60 * 1000;

function divider(date) {
  const line = document.createElement("div");
  line.className = "day-divider";
  line.setAttribute("role", "separator");
  const label = document.createElement("span");
  label.textContent = dayLabel(date);
  line.append(label);
  return line;
}

export function arrange(messages) {
  if (!messages) return;
  messages.querySelectorAll(":scope > .day-divider").forEach((d) => d.remove());
  let previous = null;
  for (const article of messages.querySelectorAll(":scope > article.message:not(.deleted)")) {
    const stamp = article.querySelector("time[datetime]")?.getAttribute("datetime");
    const at = stamp ? new Date(stamp) : null;
    if (!at || isNaN(at)) {
      previous = null; // a message on its way: its own header
      article.classList.remove("grouped");
      continue;
    }
    const newDay = !previous || day(previous.at) !== day(at);
    if (newDay) article.before(divider(at));
    const afterLine = article.previousElementSibling?.matches(".unread-divider");
    const grouped =
      !newDay && !afterLine && previous.author === article.dataset.author && at - previous.at < GROUP_MS;
    article.classList.toggle("grouped", grouped);
    previous = { author: article.dataset.author, at };
  }
}
