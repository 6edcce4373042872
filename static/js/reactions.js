// Reactions: each message's buttons show an emoji, its count and who (the server's one rendering for all);
// this page presses the ones that are mine (data-users holds the ids), and a click on one takes mine back or
// adds it. "Add reaction" (the message's menu, or "+" after its reactions) opens a picker: the usual few,
// then any emoji by name in the page's language. The page says "add" or "remove", never "toggle": two tabs
// clicking at once then mean the same thing.
import { clone, fitInList, me, within } from "./page.js";
import { wsSend } from "./socket.js";

const messageIdOf = (article) => Number(article.id.replace("msg-", ""));

export function markReactions(root) {
  within(root, ".reactions").forEach((reactions) => {
    for (const button of reactions.querySelectorAll(".reaction")) {
      const mine = button.dataset.users.split(" ").includes(me());
      button.setAttribute("aria-pressed", String(mine));
    }
    if (!reactions.querySelector(".reaction-add")) reactions.append(clone("reaction-add-template"));
  });
}

function react(article, emoji, add) {
  wsSend({ action: "react", message_id: messageIdOf(article), emoji, add: add ? 1 : 0 });
}

// ---- the picker --------------------------------------------------------------------------------------------

let picker = null;
let opener = null; // focus goes back there when the picker closes
let asked = 0;

// `refocus`: put the focus back where the picker was opened from (after Escape or a choice; not when the
// person clicked somewhere else, where their focus now is).
export function closePicker(refocus = false) {
  if (!picker) return;
  picker.remove();
  picker = null;
  if (refocus) opener?.focus();
}

export function openPicker(article, from) {
  closePicker();
  opener = from?.isConnected ? from : article.querySelector(".menu-toggle");
  picker = clone("reaction-picker-template");
  picker.dataset.message = article.id;
  article.append(picker);
  fitInList(picker);
  picker.querySelector(".picker-emoji").focus();
}

function chosen(button) {
  const article = document.getElementById(picker.dataset.message);
  if (article) {
    const mine = article.querySelector(`.reaction[data-emoji="${CSS.escape(button.dataset.emoji)}"][aria-pressed="true"]`);
    if (!mine) react(article, button.dataset.emoji, true);
  }
  closePicker(true);
}

async function search(input) {
  const ask = ++asked;
  const results = picker.querySelector(".picker-results");
  const query = input.value.trim();
  let found = [];
  if (query.length >= 2) {
    try {
      const response = await fetch(`${picker.dataset.emojiUrl}?q=${encodeURIComponent(query)}`);
      if (response.ok) found = (await response.json()).suggestions;
    } catch {
      // offline: the usual few still work
    }
  }
  if (ask !== asked || !picker) return;
  results.replaceChildren(
    ...found.map((s) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "picker-emoji";
      button.dataset.emoji = s.insert;
      button.textContent = s.insert;
      button.title = s.label;
      button.setAttribute("aria-label", s.label);
      return button;
    }),
  );
  fitInList(picker);
}

function clicked(evt) {
  const choice = evt.target.closest?.(".reaction-picker .picker-emoji");
  if (choice) return chosen(choice);
  // A click elsewhere closes it (not the one that opened it: the menu's item is handled in actions.js).
  if (picker && !evt.target.closest?.(".reaction-picker, .message-menu .react")) closePicker();
  const add = evt.target.closest?.(".message .reaction-add");
  if (add) return openPicker(add.closest(".message"), add);
  const reaction = evt.target.closest?.(".message .reaction");
  if (reaction) react(reaction.closest(".message"), reaction.dataset.emoji, reaction.getAttribute("aria-pressed") !== "true");
}

function keyDown(evt) {
  if (!picker || !picker.contains(evt.target)) return;
  if (evt.key === "Escape") {
    evt.preventDefault();
    closePicker(true);
  } else if (evt.key === "Enter" && evt.target.matches(".picker-search")) {
    evt.preventDefault();
    const first = picker.querySelector(".picker-results .picker-emoji");
    if (first) chosen(first);
  }
}

// The keyboard leaving the picker closes it (a dialog left open behind the focus is a trap for the next Tab).
// Checked once the event is over: a new state of the message takes the picker along, focus and all.
function focusOut(evt) {
  if (!picker?.contains(evt.target)) return;
  setTimeout(() => picker && !picker.contains(document.activeElement) && closePicker());
}

export function start() {
  document.addEventListener("focusout", focusOut);
  document.addEventListener("click", clicked);
  document.addEventListener("keydown", keyDown);
  document.addEventListener("input", (evt) => evt.target.matches?.(".reaction-picker .picker-search") && search(evt.target));
}
