// The page around the conversation: the sidebar as a drawer on a phone, the members panel, a person's card,
// the "new messages below" pill while reading back, and the unread total in the tab's title and favicon.
import { box } from "./page.js";
import { nearEnd, scrollToEnd } from "./scroll.js";

// ---- the drawer (phone) and the members panel ---------------------------------------------------------

function setDrawer(open) {
  document.body.classList.toggle("drawer-open", open);
  document.querySelector(".drawer-toggle")?.setAttribute("aria-expanded", String(open));
  if (open) document.querySelector("#sidebar a")?.focus();
}

const phone = () => matchMedia("(max-width: 700px)").matches;

// On a phone the panel lies over the conversation, its toggle included: it closes by its own button too.
function setMembers(open) {
  const panel = document.getElementById("members");
  panel.hidden = !open;
  document.querySelector(".members-toggle").setAttribute("aria-expanded", String(open));
  if (!open && panel.contains(document.activeElement)) document.querySelector(".members-toggle").focus();
}

const membersOverlaid = () => phone() && document.getElementById("members")?.hidden === false;

function clicked(evt) {
  if (evt.target.closest(".drawer-toggle")) return setDrawer(!document.body.classList.contains("drawer-open"));
  if (evt.target.closest(".members-toggle")) return setMembers(document.getElementById("members").hidden);
  if (evt.target.closest(".members-close")) return setMembers(false);
  // A tap outside the open drawer, or outside the members panel lying over the conversation, closes it.
  if (document.body.classList.contains("drawer-open") && !evt.target.closest("#sidebar")) setDrawer(false);
  if (membersOverlaid() && !evt.target.closest("#members")) setMembers(false);
}

function keyDown(evt) {
  if (evt.key === "Escape" && document.body.classList.contains("drawer-open")) {
    setDrawer(false);
    document.querySelector(".drawer-toggle")?.focus();
  } else if (evt.key === "Escape" && membersOverlaid()) {
    setMembers(false);
  }
}

// ---- a person's card: a click on a name, a message's avatar or an @mention (each links the card's own page) --

async function showCard(evt) {
  const avatar = evt.target.closest(".message > .avatar");
  const link = avatar ? avatar.parentElement.querySelector("a[data-card]") : evt.target.closest("a[data-card], .body a.mention");
  if (!link || evt.ctrlKey || evt.metaKey || evt.shiftKey) return;
  evt.preventDefault();
  const response = await fetch(link.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
  if (!response.ok) return (location.href = link.href);
  const dialog = document.getElementById("person-card-dialog");
  dialog.querySelector("#person-card-slot").innerHTML = await response.text(); // the server's escaped fragment
  dialog.showModal();
}

// ---- "New messages below" -----------------------------------------------------------------------------

function pill() {
  return document.querySelector(".new-below");
}

// New messages arrived while the reader was further up: offer the way down instead of pulling them there.
export function newBelow() {
  const messages = box();
  if (messages && !nearEnd(messages)) pill().hidden = false;
}

function scrolled(evt) {
  if (evt.target === box() && nearEnd(evt.target) && pill()) pill().hidden = true;
}

function jumpDown(evt) {
  if (!evt.target.closest(".new-below")) return;
  pill().hidden = true;
  scrollToEnd();
  box()?.focus();
}

// ---- unread in the tab: "(3) #general · Roomcast", a dot on the icon, the app's badge ----------------

const title = document.title;
let shown = -1;

// What the sidebar shows, by each room's involvement: every unread message, mentions only, or nothing (muted).
function shownCount(entry) {
  const level = entry.querySelector(".involvement")?.dataset.level || "everything";
  if (level === "nothing") return 0;
  if (level === "mentions") return parseInt(entry.querySelector(".mention-count")?.textContent.slice(1), 10) || 0;
  return parseInt(entry.querySelector(".count")?.textContent, 10) || 0;
}

export function showUnread() {
  const total = [...document.querySelectorAll("#sidebar li[data-room]")].reduce((sum, li) => sum + shownCount(li), 0);
  if (total === shown) return;
  shown = total;
  document.title = total ? `(${total}) ${title}` : title;
  document.querySelector("link[rel=icon]").href = favicon(total);
  // The installed app's icon (Badging API), where the browser has one.
  (total ? navigator.setAppBadge?.(total) : navigator.clearAppBadge?.())?.catch(() => {});
}

function favicon(total) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  const g = canvas.getContext("2d");
  g.fillStyle = "#2f4fd0";
  g.beginPath();
  g.roundRect(2, 2, 28, 28, 7);
  g.fill();
  g.fillStyle = "#fff";
  g.font = "bold 18px system-ui, sans-serif";
  g.textAlign = "center";
  g.textBaseline = "middle";
  g.fillText("R", 16, 17);
  if (total) {
    g.fillStyle = "#d92d20";
    g.beginPath();
    g.arc(25, 7, 7, 0, 2 * Math.PI);
    g.fill();
  }
  return canvas.toDataURL("image/png");
}

// ---- the log's announcements: older pages loading in above are not news -------------------------------

function loading(evt) {
  if (evt.detail.elt?.matches?.(".history-more, .history-newer")) box()?.setAttribute("aria-busy", "true");
}

function loaded() {
  box()?.removeAttribute("aria-busy");
}

export function start() {
  document.addEventListener("htmx:beforeRequest", loading);
  document.addEventListener("htmx:afterSettle", loaded);
  document.addEventListener("click", clicked);
  document.addEventListener("click", jumpDown);
  document.addEventListener("click", showCard);
  document.addEventListener("keydown", keyDown);
  document.addEventListener("scroll", scrolled, true);
  // On a phone the members panel covers the conversation: closed until asked for.
  if (document.getElementById("members") && phone()) setMembers(false);
  // Counts change by frames (the server's) and by the page (a new message elsewhere): look after either.
  new MutationObserver(showUnread).observe(document.getElementById("sidebar") || document.body, {
    subtree: true,
    childList: true,
    characterData: true,
  });
  showUnread();
}
