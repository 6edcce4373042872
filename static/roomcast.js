// Roomcast's few client-side touches. The server renders every fragment once for all viewers; this file
// adds what differs per viewer (my messages, the conversation I am looking at) and keeps the composer honest.
(function () {
  "use strict";

  const me = () => document.body.dataset.userId;
  const currentRoom = () => document.body.dataset.roomId;

  // Client ids make a replayed send idempotent. crypto.randomUUID needs a secure context; this does not.
  function uuid4() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function decorate(root) {
    root.querySelectorAll(`.message[data-author="${me()}"]`).forEach((m) => m.classList.add("mine"));
    root.querySelectorAll("time[datetime]").forEach((t) => {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) {
        t.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        t.title = d.toLocaleString();
      }
    });
    // The conversation on screen is read as it arrives: no badge for it.
    document.querySelectorAll(`#dm-list .unread[data-room="${currentRoom()}"]`).forEach((e) => e.classList.remove("unread"));
  }

  function scrollToEnd(force) {
    const box = document.querySelector(".messages");
    if (!box) return;
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    if (force || nearBottom) box.scrollTop = box.scrollHeight;
  }

  // Sent text is kept until the server answers, so an error puts it back in the composer: nothing is lost.
  const pending = new Map();

  document.addEventListener("htmx:wsConfigSend", (evt) => {
    const form = evt.target.closest("#composer");
    if (!form) return;
    const { body, client_id: clientId } = evt.detail.parameters;
    pending.set(clientId, body);
    // The frame is already built from these values; the next send gets a new id.
    form.elements.body.value = "";
    form.elements.client_id.value = uuid4();
  });

  document.addEventListener("htmx:wsAfterMessage", () => {
    decorate(document);
    const status = document.getElementById("composer-status");
    const form = document.getElementById("composer");
    if (status && status.dataset.clientId && form) {
      const text = pending.get(status.dataset.clientId);
      pending.delete(status.dataset.clientId);
      if (status.dataset.ok === "0" && text !== undefined) {
        const box = form.elements.body;
        box.value = box.value ? `${text}\n${box.value}` : text;
      }
      delete status.dataset.clientId;
    }
    scrollToEnd(false);
  });

  // Connection bar: the ws extension reconnects on 1006/1011/1012/1013; 4xxx closes are final.
  document.addEventListener("htmx:wsClose", (evt) => {
    const bar = document.getElementById("connection");
    if (!bar) return;
    const code = evt.detail.event.code;
    bar.hidden = false;
    bar.className = "connection";
    if ([1006, 1011, 1012, 1013].includes(code)) {
      bar.textContent = "Reconnecting… you can keep typing; messages are sent when the connection is back.";
    } else if (code === 4401 || code === 4403) {
      bar.classList.add("fatal");
      bar.textContent = "You have been signed out of chat. Reload the page to sign in again.";
    } else if (code === 4404) {
      bar.classList.add("fatal");
      bar.textContent = "This conversation is not available.";
    } else {
      bar.textContent = "Disconnected. Reload the page to reconnect.";
    }
  });
  document.addEventListener("htmx:wsOpen", () => {
    const bar = document.getElementById("connection");
    if (bar) bar.hidden = true;
  });

  document.addEventListener("keydown", (evt) => {
    // Enter sends, Shift+Enter makes a new line.
    if (evt.key === "Enter" && !evt.shiftKey && !evt.isComposing && evt.target.matches("#composer textarea")) {
      evt.preventDefault();
      evt.target.form.requestSubmit();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    decorate(document);
    scrollToEnd(true);
  });
})();
