// Notifications on this device: the service worker registered (it shows notifications, and the offline page);
// a page in a hidden tab shows what its socket is told (rooms/notify/), through the worker so that one tab
// shows it once; a room's page says when it goes to the background or comes back (while in front, its reader
// is not notified of that room); and the Notifications page's controls: turn on (permission asked only on
// that click, then a Web Push subscription when the server has keys), turn off, and install as an app.
import { currentRoom } from "./page.js";
import { onOpen, wsSend } from "./socket.js";
import { text } from "./strings.js";

const WORKER = "/sw.js";

function showNotice(notice) {
  if (document.visibilityState !== "hidden" || !("Notification" in window)) return;
  if (Notification.permission !== "granted") return;
  if (navigator.serviceWorker?.controller) {
    navigator.serviceWorker.controller.postMessage({ notice });
    return;
  }
  // No worker controls this page (its first load): one notification per room all the same.
  const shown = new Notification(notice.title, { body: notice.body, tag: notice.tag, silent: !!notice.silent });
  shown.onclick = () => {
    window.focus();
    location.href = notice.url;
  };
}

function noticeArrived() {
  const holder = document.getElementById("notification");
  if (!holder?.dataset.notice) return;
  const notice = JSON.parse(holder.dataset.notice);
  delete holder.dataset.notice;
  showNotice(notice);
}

function sendVisibility() {
  if (!currentRoom()) return;
  const visible = document.visibilityState === "visible";
  wsSend({ action: "visibility", visible: visible ? 1 : 0 });
  if (visible) seen();
}

// The room is in front: its notification, if the system still shows one, has been read.
function seen() {
  if (currentRoom()) navigator.serviceWorker?.controller?.postMessage({ seen: `room-${currentRoom()}` });
}

// ---- the Notifications page ------------------------------------------------------------------------------

function keyBytes(base64url) {
  const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function post(url, body, json) {
  const headers = { "X-CSRFToken": document.body.dataset.csrfToken };
  if (json) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method: "POST", headers, body, credentials: "same-origin" });
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || response.statusText);
}

async function currentSubscription() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return null;
  const registration = await navigator.serviceWorker.ready;
  return registration.pushManager.getSubscription();
}

async function showDeviceState(panel) {
  const state = document.getElementById("device-state");
  const enable = document.getElementById("notify-enable");
  const disable = document.getElementById("notify-disable");
  const say = (key, extra = "") => (state.textContent = `${text(`notify-${key}`)} ${extra}`.trim());
  enable.hidden = disable.hidden = true;
  if (!("Notification" in window)) return say("unsupported");
  if (Notification.permission === "denied") return say("denied");
  const pushable = !!panel.dataset.vapidKey && "PushManager" in window;
  const subscription = pushable ? await currentSubscription() : null;
  if (subscription) {
    for (const row of document.querySelectorAll("tr[data-endpoint]")) {
      row.querySelector(".this-device").hidden = row.dataset.endpoint !== subscription.endpoint;
    }
  }
  if (Notification.permission === "granted" && (subscription || !pushable)) {
    say(subscription ? "on" : "on-no-push");
    disable.hidden = !subscription;
    return;
  }
  say("off");
  enable.hidden = false;
}

async function turnOn(panel) {
  const permission = await Notification.requestPermission();
  if (permission === "granted" && panel.dataset.vapidKey && "PushManager" in window) {
    try {
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(panel.dataset.vapidKey),
      });
      await post(panel.dataset.subscribeUrl, JSON.stringify(subscription.toJSON()), true);
      location.reload(); // the device list shows it
      return;
    } catch (error) {
      await showDeviceState(panel);
      document.getElementById("device-state").textContent = `${text("notify-failed")} ${error.message}`;
      return;
    }
  }
  await showDeviceState(panel);
}

async function turnOff(panel) {
  const subscription = await currentSubscription();
  if (subscription) {
    const form = new FormData();
    form.append("endpoint", subscription.endpoint);
    await subscription.unsubscribe();
    await post(panel.dataset.forgetUrl, form, false);
  }
  location.reload();
}

let installPrompt = null;

function offerInstall(evt) {
  evt.preventDefault(); // shown from our own button, not the browser's mini bar
  installPrompt = evt;
  const button = document.getElementById("app-install");
  if (button) button.hidden = false;
}

export function start() {
  navigator.serviceWorker?.register(WORKER).catch(() => {}); // a browser without one still chats
  document.addEventListener("htmx:wsAfterMessage", noticeArrived);
  document.addEventListener("visibilitychange", sendVisibility);
  onOpen(() => document.visibilityState === "hidden" && sendVisibility());
  if (document.visibilityState === "visible") seen();
  window.addEventListener("beforeinstallprompt", offerInstall);
  const panel = document.getElementById("device-panel");
  if (!panel) return;
  document.getElementById("notify-enable").addEventListener("click", () => turnOn(panel));
  document.getElementById("notify-disable").addEventListener("click", () => turnOff(panel));
  document.getElementById("app-install").addEventListener("click", async () => {
    if (!installPrompt) return;
    installPrompt.prompt();
    await installPrompt.userChoice;
    installPrompt = null;
    document.getElementById("app-install").hidden = true;
  });
  showDeviceState(panel);
}
