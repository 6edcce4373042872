// What the person wrote and the server does not have yet, kept in this browser (localStorage) per person and
// conversation: the composer's half-written text, restored when they come back (another room, a reload, a
// sign-in after being signed out), and the sends still unanswered (pending.js). The text goes once the
// composer is emptied or sent; a send once the server has it. A conversation is its room id, or, before a
// direct conversation exists (/dm/<name>/, a plain form), its path; the first message moves it to the room.
import { currentRoom, me } from "./page.js";

const PREFIX = "roomcast:draft:";
const KEEP_DAYS = 30; // older drafts are dropped when a page loads
const composerText = () => document.querySelector("#composer textarea");

const keyOf = (place) => `${PREFIX}${me()}:${place}`;
const here = () => (currentRoom() ? `room:${currentRoom()}` : `path:${location.pathname}`);
const pathHere = () => `path:${location.pathname}`;

// Storage can be off, full or refused (private windows): then drafts live only as long as the page.
function read(place) {
  try {
    const record = JSON.parse(localStorage.getItem(keyOf(place)));
    return record && typeof record === "object" ? record : {};
  } catch {
    return {};
  }
}

function write(place, record) {
  try {
    const key = keyOf(place);
    if (record.text || record.unsent?.length) localStorage.setItem(key, JSON.stringify({ ...record, at: Date.now() }));
    else localStorage.removeItem(key);
  } catch {
    // nothing to do: see read()
  }
}

const update = (changes, place = here()) => write(place, { ...read(place), ...changes });

export const loadUnsent = () => (Array.isArray(read(here()).unsent) ? read(here()).unsent : []);
export const saveUnsent = (unsent) => me() && update({ unsent });
export const saveText = (text) => me() && update({ text, sentAs: undefined });

// On load: the composer shows the draft, unless the server filled it (a refused first message to someone).
export function restore() {
  const input = composerText();
  if (!me() || !input) return;
  let record = read(here());
  // A direct conversation's page once it exists: the draft of its first page moves here, unless it was sent.
  if (currentRoom()) {
    const early = read(pathHere());
    const sent = early.sentAs && document.querySelector(`article.message[data-client="${CSS.escape(early.sentAs)}"]`);
    if (early.text && !sent && !record.text) record = { ...record, text: early.text };
    write(pathHere(), {});
    write(here(), record);
  }
  if (input.value) {
    saveText(input.value);
  } else if (typeof record.text === "string") {
    input.value = record.text;
    input.dispatchEvent(new Event("input", { bubbles: true })); // as if typed: whatever sizes the box follows
  }
}

// Every signed-in page drops what is older than KEEP_DAYS, its own person's or not.
function prune() {
  try {
    const limit = Date.now() - KEEP_DAYS * 86400 * 1000;
    for (const key of Object.keys(localStorage)) {
      if (!key.startsWith(PREFIX)) continue;
      const at = JSON.parse(localStorage.getItem(key))?.at;
      if (!(at > limit)) localStorage.removeItem(key);
    }
  } catch {
    // storage unavailable: nothing kept, nothing to drop
  }
}

// Logging out on this page means leaving this browser: the person's drafts go with them. (Signed out from
// elsewhere, they stay, to come back after signing in again.)
function forget() {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith(`${PREFIX}${me()}:`)) localStorage.removeItem(key);
  } catch {
    // see prune()
  }
}

function submitted(evt) {
  const form = evt.target;
  const logout = document.getElementById("roomcast-strings")?.dataset.logoutUrl;
  if (logout && new URL(form.action, location.href).pathname === logout) forget();
  // A direct conversation's first message is a plain form post: its text stays until the page after it shows
  // it stored (a refusal comes back in the box; a sign-out on the way loses nothing).
  else if (form.id === "composer" && !form.hasAttribute("ws-send")) update({ sentAs: form.elements.client_id.value });
}

export function start() {
  if (!me()) return;
  document.addEventListener("input", (evt) => evt.target === composerText() && saveText(evt.target.value));
  document.addEventListener("submit", submitted, true);
  prune();
}
