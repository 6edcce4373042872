// Replies: "Reply" in a message's menu shows it above the composer (who and its first line, × to drop it),
// and the send carries its id (the composer's reply_to field). A reply's quote goes to the message it
// answers: on this page when it is loaded, else by its permalink, which loads the history around it.
import { text } from "./strings.js";

const bar = () => document.getElementById("composer-reply");

export function replyTo(article) {
  const reply = bar();
  if (!reply) return;
  const name = article.querySelector(".author")?.textContent ?? "";
  const line = (article.querySelector(".body")?.innerText ?? "").trim().split("\n")[0].slice(0, 100);
  reply.querySelector(".composer-reply-label").textContent = text("replying-to", { name, text: line });
  reply.querySelector("input[name=reply_to]").value = article.id.replace("msg-", "");
  reply.hidden = false;
  document.querySelector("#composer textarea")?.focus();
}

export function stopReplying() {
  const reply = bar();
  if (!reply || reply.hidden) return;
  reply.hidden = true;
  reply.querySelector("input[name=reply_to]").value = "";
}

function clicked(evt) {
  if (evt.target.closest?.(".composer-reply-cancel")) {
    stopReplying();
    document.querySelector("#composer textarea")?.focus();
    return;
  }
  const quote = evt.target.closest?.(".message a.reply");
  const target = quote && document.getElementById(quote.dataset.quoted);
  if (!target || evt.ctrlKey || evt.metaKey || evt.shiftKey) return; // not loaded here: the permalink
  evt.preventDefault();
  target.scrollIntoView({ block: "center" });
  target.classList.remove("flash");
  void target.offsetWidth; // restart the animation
  target.classList.add("flash");
}

function keyDown(evt) {
  if (evt.key === "Escape" && evt.target.matches?.("#composer textarea") && !bar()?.hidden) stopReplying();
}

export function start() {
  document.addEventListener("click", clicked);
  document.addEventListener("keydown", keyDown);
}
