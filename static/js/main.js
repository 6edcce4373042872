// Roomcast's page script. The server renders every fragment once for all viewers; these modules add what
// differs per viewer, place messages in order exactly once, notice a lost frame, and keep what I send until
// the server has it. This file only wires them: socket.js (the connection), timeline.js (placing messages),
// scroll.js, sidebar.js, read.js (read marks), composer.js, suggest.js (emoji and people by name) and
// pending.js (sending), drafts.js (what was written, kept in the browser), actions.js (edit, delete, report),
// replies.js, reactions.js (the picker, my own pressed), mentions.js (highlight and badges), layout.js (drawer, members,
// the pill, the tab's unread count and the app's badge), notifications.js (hidden tabs, the worker, push), keyboard.js (shortcuts), avatar.js (a new picture's preview on the
// settings page), search.js (the header's box and the results), uploads.js (files for a message) and lightbox.js
// (pictures opened large); anatomy.js and clock.js shape the list;
// page.js and strings.js are what they share.
import * as actions from "./actions.js";
import * as avatar from "./avatar.js";
import * as composer from "./composer.js";
import * as drafts from "./drafts.js";
import * as keyboard from "./keyboard.js";
import * as layout from "./layout.js";
import * as lightbox from "./lightbox.js";
import * as notifications from "./notifications.js";
import * as pending from "./pending.js";
import * as reactions from "./reactions.js";
import * as read from "./read.js";
import * as replies from "./replies.js";
import * as scroll from "./scroll.js";
import * as search from "./search.js";
import * as sidebar from "./sidebar.js";
import * as socket from "./socket.js";
import * as suggest from "./suggest.js";
import * as timeline from "./timeline.js";
import * as uploads from "./uploads.js";

// On every (re)open, after the catch-up request: resend what was never answered, then mark read afresh.
socket.onOpen(pending.resume);
socket.onOpen(read.markReadAfterOpen);
// Closed for good (signed out, banned, the conversation gone): the composer says why, nothing is sent, and
// everything unsent stays on the page to copy.
socket.onFinalClose((reason) => {
  composer.close(reason);
  pending.stop();
});

const parts = [socket, timeline, sidebar, read, composer, uploads, suggest, pending, drafts, actions, reactions, replies, scroll, layout, lightbox, notifications, keyboard, avatar, search];
for (const part of parts) {
  part.start();
}

// After each frame is swapped in: settle the answer to a send, then reload if the server said too much was missed.
document.addEventListener("htmx:wsAfterMessage", () => {
  pending.settleStatus();
  socket.reloadIfTooFarBehind();
});

document.addEventListener("DOMContentLoaded", () => {
  timeline.decorate(document);
  sidebar.markCurrentRoom();
  drafts.restore();
  pending.restore();
  scroll.showStartingPlace();
});
