// Files for the message being written: chosen with the 📎 button, dropped on the conversation, or pasted into
// the composer. Each uploads at once, on its own, over HTTP (rooms/files/views.py: multipart with the CSRF
// token, never the socket), with its progress and a button to cancel or take it back; the send then names the
// uploaded ones (composer.js). A refusal stays on its own line, saying why, and nothing typed is touched.
import { clone } from "./page.js";
import { text } from "./strings.js";

const items = new Map(); // key -> { file, li, state: "uploading" | "ready" | "failed", xhr, id }
let nextKey = 0;
let onReady = null; // a send waiting for the uploads in progress (composer.js)

const form = () => document.getElementById("composer");
const tray = () => document.getElementById("composer-files");
const open = () => form() && !form().classList.contains("closed");
const uploading = () => [...items.values()].some((item) => item.state === "uploading");

// Once nothing is uploading any more, the send that waited for it goes (files refused meanwhile stay here,
// with why, and do not go).
function settled() {
  if (onReady && !uploading()) {
    const send = onReady;
    onReady = null;
    send();
  }
}

export function whenReady(send) {
  onReady = send;
}

function fail(item, problem) {
  item.state = "failed";
  item.li.classList.add("failed");
  item.li.querySelector("progress").hidden = true;
  const note = item.li.querySelector(".upload-note");
  note.textContent = problem;
  note.setAttribute("role", "alert");
  settled();
}

function upload(item) {
  const name = item.file.name;
  const xhr = new XMLHttpRequest();
  item.xhr = xhr;
  xhr.open("POST", form().dataset.uploadUrl);
  xhr.setRequestHeader("X-CSRFToken", document.body.dataset.csrfToken);
  xhr.responseType = "json";
  const bar = item.li.querySelector("progress");
  xhr.upload.addEventListener("progress", (evt) => {
    if (evt.lengthComputable) bar.value = Math.round((100 * evt.loaded) / evt.total);
  });
  xhr.addEventListener("load", () => {
    const answer = xhr.response ?? {};
    if (xhr.status === 201) {
      Object.assign(item, { state: "ready", id: answer.id });
      bar.value = 100;
      item.li.classList.add("ready");
      item.li.querySelector(".upload-size").textContent = answer.size;
      item.li.querySelector(".upload-note").textContent = answer.notice || "";
      settled();
    } else if (answer.error) {
      fail(item, answer.error);
    } else if (xhr.status === 413) {
      // The proxy in front refused it before Roomcast saw it (its own limit): say so, not "an error".
      fail(item, text("upload-too-large", { name, limit: form().dataset.maxUploadLabel }));
    } else {
      fail(item, text("upload-failed", { name }));
    }
  });
  xhr.addEventListener("error", () => fail(item, text("upload-failed", { name })));
  const body = new FormData();
  body.append("file", item.file, name);
  xhr.send(body);
}

export function add(file) {
  if (!open()) return;
  const taken = [...items.values()].filter((item) => item.state !== "failed").length;
  const key = String(nextKey++);
  const li = clone("upload-template");
  li.dataset.key = key;
  li.querySelector(".upload-name").textContent = file.name;
  li.querySelector("progress").setAttribute("aria-label", text("upload-progress", { name: file.name }));
  li.querySelector(".upload-cancel").setAttribute("aria-label", text("upload-cancel", { name: file.name }));
  tray().append(li);
  tray().hidden = false;
  const item = { file, li, state: "uploading" };
  items.set(key, item);
  // Past the limits it is not even sent: the answer is known, and the upload would take a while to get it.
  const most = Number(form().dataset.maxFiles); // a message's, as the server counts them
  if (taken >= most) {
    fail(item, text("upload-too-many", { limit: most }));
  } else if (file.size > Number(form().dataset.maxUpload)) {
    fail(item, text("upload-too-large", { name: file.name, limit: form().dataset.maxUploadLabel }));
  } else {
    upload(item);
  }
}

function remove(key) {
  const item = items.get(key);
  if (!item) return;
  items.delete(key);
  if (item.state === "uploading") item.xhr.abort();
  if (item.state === "ready") {
    // Taken back: gone from the server now, not at the next purge.
    const url = form().dataset.discardUrl.replace("/0/", `/${item.id}/`);
    fetch(url, { method: "POST", headers: { "X-CSRFToken": document.body.dataset.csrfToken } });
  }
  item.li.remove();
  tray().hidden = items.size === 0;
  settled();
}

// What the send carries: the ids of the uploaded files ("12,13") and their names (shown on the message while
// it is on its way), or `busy` while one is still uploading.
export function ready() {
  const done = [...items.values()].filter((item) => item.state === "ready");
  return {
    busy: uploading(),
    ids: done.map((item) => item.id).join(","),
    names: done.map((item) => item.file.name),
  };
}

// Sent: the uploaded ones are the message's now. Refused ones stay, with their reason, until dismissed.
export function sent() {
  for (const [key, item] of items) {
    if (item.state === "ready") {
      items.delete(key);
      item.li.remove();
    }
  }
  tray().hidden = items.size === 0;
}

const carriesFiles = (evt) => [...(evt.dataTransfer?.types ?? [])].includes("Files");
const area = () => document.querySelector(".conversation");

function dragOver(evt) {
  if (!carriesFiles(evt) || !open()) return;
  evt.preventDefault();
  area()?.classList.add("dropping");
}

function dragLeave(evt) {
  if (!evt.relatedTarget || !area()?.contains(evt.relatedTarget)) area()?.classList.remove("dropping");
}

function drop(evt) {
  area()?.classList.remove("dropping");
  if (!carriesFiles(evt) || !open()) return;
  evt.preventDefault();
  [...evt.dataTransfer.files].forEach(add);
}

// A pasted screenshot (or copied files): attached; pasted text stays text.
function paste(evt) {
  const files = [...(evt.clipboardData?.files ?? [])];
  if (!files.length || !evt.target.matches?.("#composer textarea") || !open()) return;
  evt.preventDefault();
  files.forEach(add);
}

function clicked(evt) {
  if (evt.target.closest("#composer .attach")) document.getElementById("composer-file-input").click();
  const cancel = evt.target.closest(".upload-cancel");
  if (cancel) remove(cancel.closest(".upload").dataset.key);
}

function chosen(evt) {
  if (evt.target.id !== "composer-file-input") return;
  [...evt.target.files].forEach(add);
  evt.target.value = ""; // the same file can be chosen again
}

// Leaving the page while a file uploads loses it: the browser asks first.
function leaving(evt) {
  if (uploading()) evt.preventDefault();
}

export function start() {
  window.addEventListener("beforeunload", leaving);
  document.addEventListener("dragover", dragOver);
  document.addEventListener("dragleave", dragLeave);
  document.addEventListener("drop", drop);
  document.addEventListener("paste", paste);
  document.addEventListener("click", clicked);
  document.addEventListener("change", chosen);
}
