// Search (rooms.views.search): "/" goes to the header's search box from any page (not while writing, as
// keyboard.js's "?", nor behind an open dialog). On the results page ↓ and ↑ move through the results
// (people, rooms, then messages, every one a link), from the box, a result or the page itself; Enter opens
// the one chosen, as any link; Esc goes back to the box.
const typingIn = (el) => el.closest?.("input, textarea, select, [contenteditable]");

function keyDown(evt) {
  if (evt.defaultPrevented || evt.isComposing || evt.altKey || evt.ctrlKey || evt.metaKey) return;
  const box = document.getElementById("site-search");
  if (!box || document.querySelector("dialog[open]")) return;
  if (evt.key === "/" && !typingIn(evt.target)) {
    evt.preventDefault();
    box.focus();
    box.select();
    return;
  }
  const results = [...document.querySelectorAll("[data-result]")];
  const at = results.indexOf(document.activeElement);
  if (evt.key === "Escape" && at >= 0) {
    evt.preventDefault();
    box.focus();
    return;
  }
  if ((evt.key !== "ArrowDown" && evt.key !== "ArrowUp") || !results.length) return;
  const fromPage = evt.target === document.body || evt.target.id === "main";
  if (at < 0 && evt.target !== box && !fromPage) return;
  evt.preventDefault();
  const next = at + (evt.key === "ArrowDown" ? 1 : -1);
  if (next < 0) {
    box.focus();
  } else {
    results[Math.min(next, results.length - 1)].focus();
  }
}

export function start() {
  document.addEventListener("keydown", keyDown);
}
