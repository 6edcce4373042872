// What a person does to a message from its menu: reply (replies.js), react (reactions.js's picker), delete
// (after a confirmation), edit and report in forms cloned from the page's <template>s, and the server's
// answers to those, shown in their own form (which keeps the text).
// A locked room needs nothing here: the server's #room-state fragment and CSS hide what may not be used.
import { clone, fitInList, uuid4 } from "./page.js";
import { tooLong } from "./composer.js";
import { openPicker } from "./reactions.js";
import { replyTo } from "./replies.js";
import { wsSend } from "./socket.js";
import { text } from "./strings.js";

const messageIdOf = (article) => Number(article.id.replace("msg-", ""));

// Escape closes the form, Enter submits it unless `enterSubmits` is off (Shift+Enter always makes a new line).
function closable(form, input, close, enterSubmits) {
  form.querySelector(".cancel").addEventListener("click", close);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
    if (enterSubmits && e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

// What I wrote, as I wrote it (the page has it rendered from its Markdown); null if the server cannot say
// (then there is no edit: editing the shown text would drop the formatting, and the edit could not be sent).
async function sourceOf(article) {
  try {
    const url = new URL("source/", article.querySelector("a.permalink").href); // /m/<id>/source/
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.ok) return (await response.json()).body;
  } catch {
    // offline
  }
  return null;
}

export async function openEdit(article) {
  if (article.querySelector("form.edit") || article.dataset.opening) return;
  article.dataset.opening = "1";
  const composer = document.querySelector("#composer textarea");
  const written = composer?.value;
  const source = await sourceOf(article);
  delete article.dataset.opening;
  // Not once the person has gone on writing meanwhile: the form would take their focus mid-sentence.
  if (source === null || !article.isConnected || article.querySelector("form.edit")) return;
  if (composer && composer.value !== written) return;
  const body = article.querySelector(".body");
  const form = clone("edit-form-template");
  const input = form.elements.body;
  input.value = source;
  const original = input.value;
  // Focus goes back to the composer whichever way the edit ends, so the keyboard is never left nowhere.
  const backToComposer = () => document.querySelector("#composer textarea")?.focus();
  const close = () => {
    form.remove();
    body.hidden = false;
    backToComposer();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const problem = tooLong(input.value, Number(document.getElementById("composer").dataset.maxLength));
    form.querySelector(".edit-error").textContent = problem;
    if (problem) return;
    if (input.value.trim() === original.trim()) return close();
    // The edited message replaces this one (form and all) when the server broadcasts it.
    form.dataset.request = `edit-${uuid4()}`;
    wsSend({ action: "edit", message_id: messageIdOf(article), body: input.value, client_id: form.dataset.request });
    backToComposer();
  });
  closable(form, input, close, true);
  body.hidden = true;
  article.append(form);
  input.focus();
}

function openReport(article) {
  if (article.querySelector("form.report")) return;
  const form = clone("report-form-template");
  const input = form.elements.reason;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    form.classList.remove("failed");
    form.querySelector(".report-note").textContent = text("report-sending");
    form.dataset.request = `report-${uuid4()}`;
    wsSend({ action: "report", message_id: messageIdOf(article), reason: input.value, client_id: form.dataset.request });
  });
  closable(form, input, () => form.remove(), false);
  article.append(form);
  input.focus();
}

// The "⋯" menu: opens on click (or Enter/Space), closes on a choice, Escape, or a click elsewhere; arrow keys
// move between its items. One menu open at a time.
function closeMenus(except = null) {
  document.querySelectorAll(".message-menu.open").forEach((menu) => {
    if (menu === except) return;
    menu.classList.remove("open");
    menu.querySelector(".menu-toggle").setAttribute("aria-expanded", "false");
  });
}

function toggleMenu(menu) {
  const open = !menu.classList.contains("open");
  closeMenus(menu);
  menu.classList.toggle("open", open);
  menu.querySelector(".menu-toggle").setAttribute("aria-expanded", String(open));
  if (open) fitInList(menu, menu.querySelector(".menu"));
  if (open) visibleItems(menu)[0]?.focus();
}

const visibleItems = (menu) => [...menu.querySelectorAll("[role=menuitem]")].filter((b) => b.offsetParent !== null);

function menuKeys(evt) {
  const menu = evt.target.closest(".message-menu.open");
  if (!menu) return;
  const items = visibleItems(menu);
  const at = items.indexOf(document.activeElement);
  if (evt.key === "Escape") {
    closeMenus();
    menu.querySelector(".menu-toggle").focus();
  } else if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
    evt.preventDefault();
    const step = evt.key === "ArrowDown" ? 1 : -1;
    items[(at + step + items.length) % items.length]?.focus();
  }
}

function clicked(evt) {
  const toggle = evt.target.closest(".message .menu-toggle");
  if (toggle) return toggleMenu(toggle.closest(".message-menu"));
  const button = evt.target.closest(".message .menu [role=menuitem]");
  closeMenus();
  if (!button) return;
  const article = button.closest(".message");
  if (button.classList.contains("reply-action")) {
    replyTo(article);
  } else if (button.classList.contains("react")) {
    openPicker(article, article.querySelector(".menu-toggle"));
  } else if (button.classList.contains("delete")) {
    const question = article.querySelector(".attachments") ? "confirm-delete-files" : "confirm-delete";
    if (confirm(text(question))) wsSend({ action: "delete", message_id: messageIdOf(article) });
  } else if (button.classList.contains("report")) {
    openReport(article);
  } else {
    openEdit(article);
  }
}

// The answer to an edit or a report belongs in its own form (which keeps the text if it was refused), not
// under the composer: the form names its request, and the answer carries that name as its client id.
function answered(evt) {
  if (evt.detail.target.id !== "composer-status") return;
  const reply = evt.detail.fragment.querySelector?.("[data-client-id]");
  const clientId = reply?.dataset.clientId;
  const form = clientId && document.querySelector(`.message form[data-request="${CSS.escape(clientId)}"]`);
  if (!form) return;
  evt.detail.shouldSwap = false;
  form.querySelector("p[role]").textContent = reply.textContent;
  if (reply.dataset.ok === "1") {
    form.classList.add("done");
    setTimeout(() => form.remove(), 4000);
  } else {
    form.classList.add("failed");
  }
}

export function start() {
  document.addEventListener("click", clicked);
  document.addEventListener("keydown", menuKeys);
  document.addEventListener("htmx:oobBeforeSwap", answered);
}
