// Pictures opened large: a click on a message's picture shows the original in a dialog over the page (a
// modal <dialog>: focus stays in it, Esc closes it), ← and → step through the pictures on the page, and
// closing returns focus to the picture last shown (where the reader now is). Without the script the link opens the picture.
let current = null;

const dialog = () => document.getElementById("lightbox");
const pictures = () => [...document.querySelectorAll(".messages .attachment-image")];

function show(link) {
  current = link;
  const box = dialog();
  const img = box.querySelector("img");
  img.removeAttribute("src"); // the previous picture must not show while the next loads
  img.width = Number(link.dataset.width) || 0;
  img.height = Number(link.dataset.height) || 0;
  img.alt = link.dataset.name;
  img.src = link.href;
  box.querySelector(".lightbox-name").textContent = link.dataset.name;
  const all = pictures();
  box.querySelector(".lightbox-count").textContent = `${all.indexOf(link) + 1} / ${all.length}`;
  box.querySelector(".lightbox-download").href = link.href;
  box.querySelector(".lightbox-download").download = link.dataset.name;
}

function step(by) {
  const all = pictures();
  const at = all.indexOf(current);
  if (at < 0 || !all.length) return;
  show(all[(at + by + all.length) % all.length]);
}

function clicked(evt) {
  const link = evt.target.closest(".attachment-image");
  if (link && dialog() && !evt.ctrlKey && !evt.metaKey && !evt.shiftKey) {
    evt.preventDefault();
    show(link);
    dialog().showModal();
    return;
  }
  if (evt.target.closest(".lightbox-prev")) step(-1);
  else if (evt.target.closest(".lightbox-next")) step(1);
  else if (evt.target.closest(".lightbox-close") || evt.target === dialog()) dialog().close();
}

function keyDown(evt) {
  if (!dialog()?.open) return;
  if (evt.key === "ArrowLeft") step(-1);
  else if (evt.key === "ArrowRight") step(1);
  else return;
  evt.preventDefault();
}

export function start() {
  document.addEventListener("click", clicked);
  document.addEventListener("keydown", keyDown);
  document.addEventListener("DOMContentLoaded", () =>
    dialog()?.addEventListener("close", () => {
      dialog().querySelector("img").removeAttribute("src");
      current?.focus();
    }),
  );
}
