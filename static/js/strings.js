// Every word the page script shows comes translated from the page itself (the #roomcast-strings <template>
// of templates/rooms/client_templates.html), never from a literal here: text("sending"),
// text("too-long", { length, limit }) fills in {length} and {limit}.

let strings = null;

function load() {
  const block = document.getElementById("roomcast-strings");
  const entries = block ? [...block.content.querySelectorAll("[data-string]")] : [];
  return Object.fromEntries(entries.map((entry) => [entry.dataset.string, entry.textContent]));
}

export function text(key, values = {}) {
  strings ??= load();
  return strings[key].replace(/\{(\w+)\}/g, (placeholder, name) => (name in values ? values[name] : placeholder));
}
