// Roomcast's client-side touches. The server renders every fragment once for all viewers; this file adds
// what differs per viewer (my messages, the room I am looking at, my unread counts), places messages in
// order exactly once, notices a lost frame, and keeps what I send until the server has it.
(function () {
  "use strict";

  // Reconnect sooner than the extension's default (full jitter up to 64 s): a chat should come back fast.
  htmx.config.wsReconnectDelay = (retry) => Math.min(500 * 2 ** retry, 15000) * (0.5 + Math.random() / 2);

  const me = () => document.body.dataset.userId;
  const currentRoom = () => document.body.dataset.roomId;
  const box = () => currentRoom() && document.getElementById(`messages-${currentRoom()}`);

  // ---- the socket ------------------------------------------------------------------------------------

  let socket = null; // the ws extension's wrapper: it queues while disconnected and replays on open
  let connected = false;
  const early = [];

  function wsSend(payload) {
    const text = JSON.stringify(payload);
    if (socket) socket.send(text);
    else early.push(text);
  }

  function catchUp() {
    const messages = box();
    wsSend({ action: "catch_up", after: messages ? Number(messages.dataset.cursor) : 0 });
  }

  // Client ids make a replayed send idempotent. crypto.randomUUID needs a secure context; this does not.
  function uuid4() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  document.addEventListener("htmx:wsOpen", (evt) => {
    socket = evt.detail.socketWrapper;
    connected = true;
    document.getElementById("connection").hidden = true;
    // Before the extension replays its offline queue: ask for everything this page has not seen, then send
    // again what went out before the drop but was never acknowledged (the server stores a client id once).
    catchUp();
    early.splice(0).forEach((text) => socket.send(text));
    for (const [clientId, send] of pending) {
      if (send.wentOut) {
        socket.send(send.frame);
        watch(clientId);
      }
    }
    lastRead = 0;
    markRead();
  });

  // Connection bar: the ws extension reconnects on 1006/1011/1012/1013; 4xxx closes are final.
  let replacing = false; // we closed a half-dead socket ourselves (1005) and a new one is on its way
  document.addEventListener("htmx:wsClose", (evt) => {
    const code = evt.detail.event.code;
    if (replacing && code === 1005) {
      replacing = false;
      return;
    }
    connected = false;
    const bar = document.getElementById("connection");
    bar.hidden = false;
    bar.className = "connection";
    // Daphne sends 4012/4013 for "reconnect" and "try again later" (it refuses 1012/1013 from an application);
    // the extension reconnects by itself only on the standard codes.
    if (code === 4012 || code === 4013) {
      setTimeout(() => evt.detail.socketWrapper.reconnect(), htmx.config.wsReconnectDelay(0));
    }
    if ([1006, 1011, 1012, 1013, 4012, 4013].includes(code)) {
      bar.textContent = "Reconnecting… you can keep typing; messages are sent when the connection is back.";
    } else if (code === 4401 || code === 4403) {
      bar.classList.add("fatal");
      bar.textContent = "You have been signed out of chat. Reload the page to sign in again.";
    } else if (code === 4404) {
      bar.classList.add("fatal");
      bar.textContent = "This conversation is not available.";
    } else if (code === 4429) {
      bar.classList.add("fatal");
      bar.textContent = "You have too many Roomcast pages open. Close some, then reload this one.";
    } else {
      bar.textContent = "Disconnected. Reload the page to reconnect.";
    }
  });

  // ---- placing what arrives --------------------------------------------------------------------------

  // `root` is the document, a page of history or one message: look at it and inside it.
  const within = (root, selector) => [...(root.matches?.(selector) ? [root] : []), ...root.querySelectorAll(selector)];

  function decorate(root) {
    within(root, `.message[data-author="${me()}"]`).forEach((m) => m.classList.add("mine"));
    within(root, "time[datetime]").forEach((t) => {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) {
        t.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        t.title = d.toLocaleString();
      }
    });
  }

  // Every change in a room has the next number and reaches this page once. The cursor is the highest number
  // up to which nothing is missing; a number beyond a gap means a frame was lost, so ask for the gap again.
  const ahead = new Set();
  let gapTimer = null;
  function advance(messages, changed, upto = 0) {
    let cursor = Math.max(Number(messages.dataset.cursor), upto);
    ahead.forEach((n) => n <= cursor && ahead.delete(n));
    if (changed > cursor) ahead.add(changed);
    while (ahead.delete(cursor + 1)) cursor += 1;
    messages.dataset.cursor = cursor;
    if (ahead.size && !gapTimer) {
      gapTimer = setTimeout(() => {
        gapTimer = null;
        if (ahead.size) catchUp();
      }, 1500);
    }
  }

  // A message in its current state goes in once, in seq order; a newer state replaces it; a tombstone
  // removes it. The same frame may come live and again in a catch-up: the second one changes nothing.
  function placeMessage(messages, article) {
    const changed = Number(article.dataset.changed);
    advance(messages, changed);
    const existing = document.getElementById(article.id);
    if (existing && Number(existing.dataset.changed) >= changed) return false;
    if (article.classList.contains("deleted")) {
      if (existing) existing.remove();
      return false;
    }
    decorate(article);
    if (existing) {
      existing.replaceWith(article);
      return false;
    }
    const seq = Number(article.dataset.seq);
    const placed = messages.querySelectorAll(":scope > article.message[data-seq]");
    const first = placed[0];
    const last = placed[placed.length - 1];
    // Outside what is loaded while more pages remain on that side (an edit far back, a new message while
    // reading from a permalink): it comes with its page instead.
    if (first && seq < Number(first.dataset.seq) && messages.querySelector(":scope > .history-more")) return false;
    if (last && seq > Number(last.dataset.seq) && messages.querySelector(":scope > .history-newer")) {
      deferred.set(article.id, article); // tried again when the newer page is in (it may have missed it)
      return false;
    }
    // Before the first placed message with a higher seq; usually the newest, so check the end first.
    const later =
      !last || Number(last.dataset.seq) < seq
        ? messages.querySelector(":scope > .pending")
        : [...placed].find((m) => Number(m.dataset.seq) > seq);
    messages.insertBefore(article, later || null);
    document.getElementById(`pending-${article.dataset.client}`)?.remove();
    document.getElementById(`typing-${currentRoom()}-${article.dataset.author}`)?.remove();
    return article.dataset.author !== me();
  }

  const deferred = new Map();

  function upsert(list, item) {
    const existing = document.getElementById(item.id);
    if (existing) existing.replaceWith(item);
    else if (list.dataset.upsert === "start") list.prepend(item);
    else list.append(item);
    if (item.classList.contains("typist")) setTimeout(() => item.remove(), 6000); // typing expires
  }

  function bumpUnread(roomId) {
    const count = document.getElementById(`unread-${roomId}`);
    if (count) count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
  }

  // Frames for targets on this page: place them ourselves (ordered, idempotent) instead of appending.
  document.addEventListener("htmx:oobBeforeSwap", (evt) => {
    const target = evt.detail.target;
    if (!target.hasAttribute("data-upsert")) return;
    evt.detail.shouldSwap = false;
    const items = [...evt.detail.fragment.children];
    if (!target.classList.contains("messages")) {
      items.forEach((item) => upsert(target, item));
      return;
    }
    const stickToEnd = nearEnd(target);
    const fromOthers = items.map((a) => placeMessage(target, a)).some(Boolean);
    // A catch-up is complete up to the room's last change: nothing below it is missing any more.
    const upto = Number(evt.detail.fragment.getAttribute?.("data-upto") || 0);
    if (upto) advance(target, 0, upto);
    if (fromOthers && !reading()) bumpUnread(currentRoom());
    if (stickToEnd) scrollToEnd();
    markRead();
  });

  // Frames for rooms not on this page: new messages from others raise that room's unread count.
  document.addEventListener("htmx:oobErrorNoTarget", (evt) => {
    const frame = evt.detail.content;
    if (!frame?.id?.startsWith("messages-")) return;
    const roomId = frame.dataset.room;
    for (const a of frame.querySelectorAll("article.message:not(.deleted)")) {
      if (a.dataset.seq !== a.dataset.changed) continue; // an edit, not a new message
      if (a.dataset.author !== me()) bumpUnread(roomId);
      const dm = document.getElementById(`dm-${roomId}`);
      if (dm) dm.parentElement.prepend(dm); // the latest conversation goes to the top
    }
  });

  document.addEventListener("htmx:wsAfterMessage", () => {
    settleStatus();
    // Too much was missed to replay: load the room afresh (at its latest messages, even from a permalink).
    if (document.querySelector("#connection[data-reload]")) location.assign(location.pathname);
  });

  // ---- read state ------------------------------------------------------------------------------------

  // Read means seen: the page is in front, scrolled to the end, and showing the latest messages.
  function reading() {
    const messages = box();
    return (
      !!messages &&
      document.visibilityState === "visible" &&
      nearEnd(messages) &&
      !messages.querySelector(":scope > .history-newer")
    );
  }

  // At most one read mark a second (the latest): a busy room must not spend the socket's frame budget,
  // which its sends share, on a mark per message.
  let lastRead = 0;
  let lastReadAt = 0;
  let readTimer = null;
  function markRead() {
    if (!reading() || !connected) return;
    const wait = lastReadAt + 1000 - Date.now();
    if (wait > 0) {
      readTimer ??= setTimeout(() => {
        readTimer = null;
        markRead();
      }, wait);
      return;
    }
    const last = [...box().querySelectorAll(":scope > article.message[data-seq]")].at(-1);
    const seq = last ? Number(last.dataset.seq) : 0;
    if (seq > lastRead) {
      lastRead = seq;
      lastReadAt = Date.now();
      wsSend({ action: "read", seq });
    }
  }
  // Away and back: the "New messages" line moves to the first message that arrived while the page was hidden.
  let seenUpTo = null;
  document.addEventListener("visibilitychange", () => {
    const messages = box();
    if (!messages) return;
    if (document.visibilityState === "hidden") {
      const last = [...messages.querySelectorAll(":scope > article.message[data-seq]")].at(-1);
      seenUpTo = last ? Number(last.dataset.seq) : 0;
    } else if (seenUpTo !== null) {
      const first = [...messages.querySelectorAll(":scope > article.message[data-seq]:not(.mine)")].find(
        (m) => Number(m.dataset.seq) > seenUpTo,
      );
      if (first) {
        const divider = document.getElementById("unread-divider") || document.createElement("div");
        divider.id = "unread-divider";
        divider.className = "unread-divider";
        divider.innerHTML = "<span>New messages</span>";
        first.before(divider);
      }
      seenUpTo = null;
    }
    markRead();
  });
  document.addEventListener("scroll", (evt) => evt.target.matches?.(".messages") && markRead(), true);

  // ---- the composer ----------------------------------------------------------------------------------

  function tooLong(text, limit) {
    const length = [...text.trim()].length;
    return length > limit ? `Message is too long: ${length.toLocaleString("en")} characters (the limit is ${limit.toLocaleString("en")}).` : "";
  }

  function showStatus(text) {
    const status = document.getElementById("composer-status");
    status.className = "composer-status error";
    status.textContent = text;
  }

  // Sent text shows at once as "sending…" and is kept until the server answers: an error puts it back,
  // a drop before the answer sends it again on reconnect.
  const pending = new Map(); // client id -> { body, frame, wentOut, held }, in the order they were written

  // Flood control said "not yet" to a send: it and every later one wait, in order, and go one at a time
  // once the wait is over (each answer lets the next go, or says to wait again).
  let holdTimer = null;
  const isHeld = () => [...pending.values()].some((send) => send.held);
  function holdUntil(ms) {
    clearTimeout(holdTimer);
    holdTimer = setTimeout(releaseNext, ms);
  }
  function releaseNext() {
    holdTimer = null;
    const next = [...pending].find(([, send]) => send.held);
    if (!next) return;
    const [clientId, send] = next;
    send.held = false;
    document.getElementById(`pending-${clientId}`)?.querySelector(".muted")?.replaceChildren("sending…");
    if (connected) {
      socket.send(send.frame);
      send.wentOut = true;
      watch(clientId);
    } else {
      send.wentOut = true; // goes with the other unanswered sends when the socket reopens
    }
  }

  document.addEventListener("htmx:wsConfigSend", (evt) => {
    const form = evt.target.closest("#composer");
    if (!form) return;
    const { body, client_id: clientId } = evt.detail.parameters;
    // Too long never leaves the page (the server would refuse it, and past 1 MiB drop the socket): say so here.
    const problem = tooLong(body, Number(form.dataset.maxLength));
    if (problem) {
      evt.preventDefault();
      showStatus(problem);
      return;
    }
    const held = isHeld();
    if (held) evt.preventDefault(); // behind a send that waits its turn: it waits too, in order
    pending.set(clientId, { body, frame: JSON.stringify({ body, client_id: clientId }), wentOut: connected && !held, held });
    if (!held) watch(clientId);
    const messages = box();
    if (messages && body.trim()) {
      const article = document.createElement("article");
      article.id = `pending-${clientId}`;
      article.className = "message mine pending";
      article.innerHTML = '<header class="meta"><span class="author">You</span> <span class="muted"></span></header><div class="body"></div>';
      article.querySelector(".muted").textContent = held ? "waiting…" : "sending…";
      article.querySelector(".body").textContent = body;
      messages.append(article);
      scrollToEnd();
    }
    // The frame is already built from these values; the next send gets a new id.
    form.elements.body.value = "";
    form.elements.client_id.value = uuid4();
  });

  // Queued sends go out when the socket opens: from then on they too are "sent, awaiting an answer".
  document.addEventListener("htmx:wsAfterSend", (evt) => {
    const clientId = JSON.parse(evt.detail.message).client_id;
    if (pending.has(clientId)) pending.get(clientId).wentOut = true;
  });

  // A send with no answer for 10 s while "connected" means a half-dead connection (a phone changing
  // networks): open a fresh one, which sends it again.
  function watch(clientId) {
    setTimeout(() => {
      if (pending.get(clientId)?.wentOut && connected) {
        replacing = true;
        socket.reconnect();
      }
    }, 10000);
  }

  function settleStatus() {
    const status = document.getElementById("composer-status");
    const form = document.getElementById("composer");
    const clientId = status?.dataset.clientId;
    if (!clientId || !form) return; // not about a send, or already handled
    delete status.dataset.clientId;
    const send = pending.get(clientId);
    if (status.dataset.retry && send) {
      // Flood control: not now. It stays pending, as itself, and goes again (same client id) after the wait.
      send.held = true;
      send.wentOut = false;
      document.getElementById(`pending-${clientId}`)?.querySelector(".muted")?.replaceChildren("waiting…");
      holdUntil(Number(status.dataset.retry));
      return;
    }
    pending.delete(clientId);
    if (isHeld() && !holdTimer) releaseNext(); // an answer lets the next waiting send go
    if (status.dataset.ok === "1") {
      if (box()?.querySelector(":scope > .history-newer")) {
        location.assign(location.pathname); // sent from an old part of the history: show it at the end
        return;
      }
      // Normally the message itself arrives right after; if it does not, the catch-up brings it.
      setTimeout(() => {
        const copy = document.getElementById(`pending-${clientId}`);
        if (copy) {
          copy.remove();
          catchUp();
        }
      }, 3000);
      return;
    }
    document.getElementById(`pending-${clientId}`)?.remove();
    if (send) {
      const input = form.elements.body;
      input.value = input.value ? `${send.body}\n${input.value}` : send.body;
    }
  }

  let lastTyping = 0;
  document.addEventListener("input", (evt) => {
    if (!evt.target.matches("#composer textarea") || !connected || !evt.target.value.trim()) return;
    if (Date.now() - lastTyping > 3000) {
      lastTyping = Date.now();
      wsSend({ action: "typing" });
    }
  });

  document.addEventListener("keydown", (evt) => {
    // Enter sends, Shift+Enter makes a new line.
    if (evt.key === "Enter" && !evt.shiftKey && !evt.isComposing && evt.target.matches("#composer textarea")) {
      evt.preventDefault();
      lastTyping = 0;
      evt.target.form.requestSubmit();
    }
  });

  // ---- edit and delete -------------------------------------------------------------------------------

  document.addEventListener("click", (evt) => {
    const button = evt.target.closest(".message .actions button");
    if (!button) return;
    const article = button.closest(".message");
    const messageId = Number(article.id.replace("msg-", ""));
    if (button.classList.contains("delete")) {
      if (confirm("Delete this message for everyone?")) wsSend({ action: "delete", message_id: messageId });
      return;
    }
    if (article.querySelector("form.edit")) return;
    const body = article.querySelector(".body");
    const form = document.createElement("form");
    form.className = "edit";
    form.innerHTML = '<textarea name="body" rows="2" aria-label="Edit message"></textarea><button type="submit">Save</button> <button type="button" class="link cancel">Cancel</button><p class="edit-error" role="alert"></p>';
    const input = form.elements.body;
    input.value = body.innerText;
    const original = input.value;
    const close = () => {
      form.remove();
      body.hidden = false;
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const problem = tooLong(input.value, Number(document.getElementById("composer").dataset.maxLength));
      form.querySelector(".edit-error").textContent = problem;
      if (problem) return;
      if (input.value.trim() === original.trim()) return close();
      // The edited message replaces this one (form and all) when the server broadcasts it.
      form.dataset.request = `edit-${uuid4()}`;
      wsSend({ action: "edit", message_id: messageId, body: input.value, client_id: form.dataset.request });
    });
    form.querySelector(".cancel").addEventListener("click", close);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    body.hidden = true;
    article.append(form);
    input.focus();
  });

  // ---- report (a locked room needs no script: the server's #room-state fragment and CSS do it) -------

  document.addEventListener("click", (evt) => {
    const button = evt.target.closest(".message .flag button.report");
    if (!button) return;
    const article = button.closest(".message");
    if (article.querySelector("form.report")) return;
    const form = document.createElement("form");
    form.className = "report";
    form.innerHTML =
      '<textarea name="reason" rows="2" maxlength="500" required aria-label="Why are you reporting this message?" placeholder="What is wrong with this message? Moderators will see it."></textarea><button type="submit">Report</button> <button type="button" class="link cancel">Cancel</button><p class="report-note" role="status"></p>';
    const input = form.elements.reason;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!input.value.trim()) return;
      form.classList.remove("failed");
      form.querySelector(".report-note").textContent = "Sending…";
      form.dataset.request = `report-${uuid4()}`;
      const messageId = Number(article.id.replace("msg-", ""));
      wsSend({ action: "report", message_id: messageId, reason: input.value, client_id: form.dataset.request });
    });
    form.querySelector(".cancel").addEventListener("click", () => form.remove());
    input.addEventListener("keydown", (e) => e.key === "Escape" && form.remove());
    article.append(form);
    input.focus();
  });

  // ---- answers to edits and reports -----------------------------------------------------------------

  // The answer to an edit or a report belongs in its own form (which keeps the text if it was refused), not
  // under the composer: the form names its request, and the answer carries that name as its client id.
  document.addEventListener("htmx:oobBeforeSwap", (evt) => {
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
  });

  // ---- scrolling and history -------------------------------------------------------------------------

  function nearEnd(messages) {
    return messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
  }
  function scrollToEnd() {
    const messages = box();
    if (messages && !messages.querySelector(":scope > .history-newer")) messages.scrollTop = messages.scrollHeight;
  }

  // Older pages load above what is on screen; keep the reader's place.
  let keep = null;
  document.addEventListener("htmx:beforeSwap", (evt) => {
    if (evt.detail.target.matches(".history-more")) {
      const messages = evt.detail.target.parentElement;
      keep = { messages, fromEnd: messages.scrollHeight - messages.scrollTop };
    }
  });
  document.addEventListener("htmx:afterSettle", () => {
    const messages = box();
    if (messages) decorate(messages);
    if (messages) deferred.forEach((article, id) => deferred.delete(id) && placeMessage(messages, article));
    if (keep) {
      keep.messages.scrollTop = keep.messages.scrollHeight - keep.fromEnd;
      keep = null;
    }
    markRead();
  });

  document.addEventListener("DOMContentLoaded", () => {
    decorate(document);
    const room = currentRoom();
    if (room) document.querySelector(`#room-${room}, #dm-${room}`)?.classList.add("current");
    const target = location.hash.startsWith("#msg-") && document.getElementById(location.hash.slice(1));
    const divider = document.getElementById("unread-divider");
    if (target) {
      target.classList.add("highlight");
      target.scrollIntoView({ block: "center" });
    } else if (divider) {
      divider.scrollIntoView({ block: "start" });
    } else {
      scrollToEnd();
    }
  });
})();
