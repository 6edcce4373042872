// Keyboard shortcuts (the list: templates/keyboard.html, shown by "?"). Enter and Shift+Enter are the
// composer's (composer.js). Up in an empty composer edits my last message; Esc cancels an edit (actions.js) or
// marks the room read; Ctrl/Cmd+K opens the quick switcher; Alt+Up/Down moves between conversations.
import { openEdit } from "./actions.js";
import { box, me } from "./page.js";
import { markRead } from "./read.js";
import { scrollToEnd } from "./scroll.js";

const typingIn = (el) => el.closest?.("input, textarea, select, [contenteditable]");

function lastOfMine() {
  const mine = box()?.querySelectorAll(`:scope > article.message[data-author="${me()}"]:not(.deleted)`);
  return mine?.[mine.length - 1];
}

// The conversations in the sidebar's order; `step` from the current one (wrapping round).
function neighbour(step) {
  const links = [...document.querySelectorAll("#sidebar .room-nav li > a")];
  const at = links.findIndex((a) => a.closest("li").classList.contains("current"));
  if (!links.length) return null;
  return links[(at + step + links.length) % links.length];
}

function openSwitcher() {
  const dialog = document.getElementById("switcher");
  if (!dialog || dialog.open) return;
  dialog.showModal();
  dialog.querySelector("input").select();
}

// In the switcher: arrows choose among the results, Enter opens the chosen (or the first).
function switcherKeys(evt) {
  const dialog = evt.target.closest("#switcher");
  if (!dialog) return false;
  const links = [...dialog.querySelectorAll(".switch-results a")];
  const at = links.findIndex((a) => a.closest("li").classList.contains("selected"));
  if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
    evt.preventDefault();
    const next = links[(at + (evt.key === "ArrowDown" ? 1 : -1) + links.length) % links.length];
    links.forEach((a) => a.closest("li").classList.toggle("selected", a === next));
    next?.scrollIntoView({ block: "nearest" });
    return true;
  }
  if (evt.key === "Enter" && evt.target.matches("input") && links.length) {
    evt.preventDefault();
    location.href = (links[at] || links[0]).href;
    return true;
  }
  return false;
}

// A drop-down (<details class="room-menu">) closes with Escape, focus back on its button, and with a click
// outside it, as a menu does.
function closeMenus(evt) {
  for (const menu of document.querySelectorAll("details.room-menu[open]")) {
    if (evt.type === "keydown" || !menu.contains(evt.target)) {
      menu.open = false;
      if (evt.type === "keydown") menu.querySelector("summary").focus();
    }
  }
}

function keyDown(evt) {
  if (evt.defaultPrevented || evt.isComposing) return;
  if (evt.key === "Escape" && document.querySelector("details.room-menu[open]")) {
    closeMenus(evt);
    return;
  }
  if (switcherKeys(evt)) return;
  if ((evt.ctrlKey || evt.metaKey) && evt.key.toLowerCase() === "k") {
    evt.preventDefault();
    openSwitcher();
  } else if (evt.altKey && (evt.key === "ArrowUp" || evt.key === "ArrowDown")) {
    const next = neighbour(evt.key === "ArrowDown" ? 1 : -1);
    if (next) {
      evt.preventDefault();
      location.href = next.href;
    }
  } else if (evt.target.matches?.("#composer textarea")) {
    const last = evt.key === "ArrowUp" && !evt.target.value && lastOfMine();
    if (last) {
      evt.preventDefault();
      openEdit(last);
    } else if (evt.key === "Escape") {
      scrollToEnd();
      markRead();
    }
  } else if (evt.key === "?" && !typingIn(evt.target)) {
    document.getElementById("shortcuts")?.showModal();
  }
}

export function start() {
  document.addEventListener("keydown", keyDown);
  document.addEventListener("click", closeMenus);
}
