// The settings page: a picture chosen for the avatar shows in its place at once, before it is saved, with a
// note that it is not saved yet. The server still checks, squares and re-encodes it when the form is sent.
import { text } from "./strings.js";

let shown = null; // the avatar as the page had it, while a preview stands in for it

function chosen(evt) {
  const input = evt.target;
  if (!input.matches?.(".avatar-field input[type=file]")) return;
  const field = input.closest(".avatar-field");
  const current = field.querySelector(".avatar");
  shown ??= current.cloneNode(true);
  const file = input.files[0];
  field.querySelector(".avatar-preview-note")?.remove();
  if (!file || !file.type.startsWith("image/")) return current.replaceWith(shown.cloneNode(true));
  const preview = document.createElement("img");
  preview.className = "avatar avatar-lg";
  preview.alt = text("avatar-preview");
  preview.src = URL.createObjectURL(file);
  preview.addEventListener("load", () => URL.revokeObjectURL(preview.src), { once: true });
  // A file the browser cannot show: the old avatar again; the server will say what is wrong with it.
  preview.addEventListener("error", () => preview.replaceWith(shown.cloneNode(true)), { once: true });
  current.replaceWith(preview);
  const note = document.createElement("p");
  note.className = "avatar-preview-note muted small";
  note.setAttribute("role", "status");
  note.textContent = text("avatar-not-saved");
  input.after(note);
}

export function start() {
  document.addEventListener("change", chosen);
}
