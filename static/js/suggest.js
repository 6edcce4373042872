// Suggestions while writing in the composer: after ":" and two letters, emoji by name (the server's /emoji/
// list, in the page's language; picking one puts the emoji itself in the text); after "@", the room's people
// by username or name, Chinese names too (picking one puts "@username"). A listbox under the composer,
// driven from the keyboard (Up/Down, Enter or Tab to pick, Escape to close) or by a click.
const SOURCES = [
  { name: "emoji", trigger: /(^|\s):([^\s:]{2,30})$/u }, // ":smi", ":大笑" before the caret
  // "@" where a mention may start (not in "alice@example.com"; rooms/mentions.py says the same), then a name.
  { name: "people", trigger: /(^|[^A-Za-z0-9._%+\-@/:=])@([\p{L}\p{N}_.+\-]{0,30})$/u },
];
const input = () => document.querySelector("#composer textarea");
const list = () => document.getElementById("composer-suggestions");

let active = -1;
let asked = 0; // the newest request: answers to older ones are dropped
let source = null; // what the open list suggests

function options() {
  return [...list().querySelectorAll("[role=option]")];
}

function show(index) {
  const items = options();
  active = (index + items.length) % items.length;
  items.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
  input().setAttribute("aria-activedescendant", items[active].id);
}

function triggered(box) {
  const before = box.value.slice(0, box.selectionStart);
  for (const s of SOURCES) {
    const match = before.match(s.trigger);
    if (match && list()?.dataset[`${s.name}Url`]) return { source: s, match };
  }
  return null;
}

function close() {
  asked += 1; // an answer still on its way must not open the list again
  const box = list();
  if (!box || box.hidden) return;
  box.hidden = true;
  box.replaceChildren();
  active = -1;
  input().removeAttribute("aria-activedescendant");
}

function pick(item) {
  const box = input();
  const before = box.value.slice(0, box.selectionStart).replace(source.trigger, `$1${item.dataset.insert} `);
  box.value = before + box.value.slice(box.selectionStart);
  box.setSelectionRange(before.length, before.length);
  close();
  box.focus();
  box.dispatchEvent(new Event("input", { bubbles: true })); // drafts and typing notices see the change
}

async function typed(evt) {
  if (!evt.target.matches?.("#composer textarea") || !list()) return;
  const found = triggered(evt.target);
  if (!found) return close();
  const ask = ++asked;
  let suggestions = [];
  try {
    const url = list().dataset[`${found.source.name}Url`];
    const response = await fetch(`${url}?q=${encodeURIComponent(found.match[2])}`);
    if (response.ok) suggestions = (await response.json()).suggestions;
  } catch {
    // offline: no suggestions; a shortcode still turns into its emoji, a typed @name into a mention, when sent
  }
  if (ask !== asked) return;
  if (!suggestions.length) return close();
  source = found.source;
  list().setAttribute("aria-label", list().dataset[`${source.name}Label`]);
  list().replaceChildren(
    ...suggestions.map((s, i) => {
      const item = document.createElement("li");
      item.id = `composer-suggestion-${i}`;
      item.setAttribute("role", "option");
      item.dataset.insert = s.insert;
      item.textContent = s.label;
      return item;
    }),
  );
  list().hidden = false;
  show(0);
}

// Capture phase: while the list is open, these keys are its own, not the composer's (Enter does not send).
function keyDown(evt) {
  if (!evt.target.matches?.("#composer textarea") || !list() || list().hidden) return;
  // The caret moved away from the ":word" or "@name" (or the text was sent): the list is stale, the key the composer's.
  if (triggered(evt.target)?.source !== source) return close();
  const keys = { ArrowDown: () => show(active + 1), ArrowUp: () => show(active - 1), Escape: close };
  keys.Enter = keys.Tab = () => pick(options()[active]);
  if (!keys[evt.key] || evt.isComposing || (evt.key === "Enter" && evt.shiftKey)) return;
  evt.preventDefault();
  evt.stopPropagation();
  keys[evt.key]();
}

function clicked(evt) {
  const item = evt.target.closest?.("#composer-suggestions [role=option]");
  if (item) pick(item);
  else if (!evt.target.closest?.("#composer")) close();
}

export function start() {
  document.addEventListener("input", typed);
  document.addEventListener("keydown", keyDown, true);
  document.addEventListener("click", clicked);
}
