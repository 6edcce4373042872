// Tells the account the browser's time zone, once: base.html loads this module only while the account has
// none, and the server keeps the first zone it is told (a zone chosen on the preferences page stays).
// Pages show times in it from the next one on.
const script = document.querySelector("script[data-time-zone-url]");
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

if (script && zone) {
  fetch(script.dataset.timeZoneUrl, {
    method: "POST",
    headers: { "X-CSRFToken": script.dataset.csrfToken },
    body: new URLSearchParams({ time_zone: zone }),
    credentials: "same-origin",
  }).catch(() => {}); // offline: the next page asks again
}
