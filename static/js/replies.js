// Replies: "Reply" in a message's menu shows it above the composer (who and its first line, × or Esc to drop
// it), and the send carries its id (the composer's reply_to field). A reply's quote goes to the message it
// answers: on this page when it is loaded, else by its permalink, which loads the history around it. Quotes
// on the page follow the message they quote: edited, they show its new first line; removed, they say so.
import { clone } from "./page.js";
import { text } from "./strings.js";

const bar = () => document.getElementById("composer-reply");

export function replyTo(article) {
  const reply = bar();
  if (!reply) return;
  const name = article.querySelector(".author")?.textContent ?? "";
  const line = firstLine(article);
  reply.querySelector(".composer-reply-label").textContent = text("replying-to", { name, text: line });
  reply.querySelector("input[name=reply_to]").value = article.id.replace("msg-", "");
  reply.hidden = false;
  const box = document.querySelector("#composer textarea");
  box?.setAttribute("aria-describedby", "composer-reply"); // read out with the box it is about
  box?.focus();
}

const firstLine = (article) => (article.querySelector(".body")?.innerText ?? "").trim().split("\n")[0].slice(0, 100);

export function quotesFollow(article) {
  const quotes = document.querySelectorAll(`.message a.reply[data-quoted="${article.id}"]`);
  if (article.classList.contains("deleted")) {
    quotes.forEach((quote) => quote.replaceWith(clone("reply-gone-template")));
  } else {
    const line = firstLine(article);
    quotes.forEach((quote) => (quote.querySelector(".reply-text").textContent = line));
  }
}

export function stopReplying() {
  const reply = bar();
  if (!reply || reply.hidden) return;
  reply.hidden = true;
  reply.querySelector("input[name=reply_to]").value = "";
  document.querySelector("#composer textarea")?.removeAttribute("aria-describedby");
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
  target.tabIndex = -1; // the keyboard goes there too
  target.focus({ preventScroll: true });
  target.classList.remove("flash");
  void target.offsetWidth; // restart the animation
  target.classList.add("flash");
}

// Esc in the box drops the reply first (and does nothing else: not the jump to the end it does otherwise).
function keyDown(evt) {
  if (evt.key !== "Escape" || !evt.target.matches?.("#composer textarea") || !bar() || bar().hidden) return;
  evt.preventDefault();
  evt.stopImmediatePropagation();
  stopReplying();
}

export function start() {
  document.addEventListener("click", clicked);
  document.addEventListener("keydown", keyDown, true); // before the page's shortcuts (keyboard.js)
}
