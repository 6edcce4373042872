// Roomcast's service worker (served from /sw.js by rooms/notify/views.py, so it controls every page): shows
// notifications, from Web Push and from pages in hidden tabs alike, one per room, a new one counting what the
// one it replaces showed; opens the message when one is clicked; shows the offline page when a page cannot be
// reached.
const OFFLINE = "{{ offline_url|escapejs }}";
const STYLE = "{{ style|escapejs }}";
const ICON = "{{ icon|escapejs }}";
const CACHE = "roomcast-offline-1";
const KEPT = [OFFLINE, STYLE].map((path) => new URL(path, self.location.origin).href);
const recent = new Set(); // notices already shown: every hidden tab of a person hands over the same one

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(KEPT.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

// Pages come from the network, always; only when it fails, the offline page (and its style sheet).
self.addEventListener("fetch", (event) => {
  if (event.request.mode === "navigate") {
    event.respondWith(fetch(event.request).catch(() => caches.match(KEPT[0])));
  } else if (KEPT.includes(event.request.url)) {
    event.respondWith(fetch(event.request).catch(() => caches.match(event.request.url)));
  }
});

async function show(notice) {
  if (notice.id) {
    if (recent.has(notice.id)) return;
    recent.add(notice.id);
    if (recent.size > 200) recent.delete(recent.values().next().value);
  }
  let count = notice.count || 1;
  for (const old of await self.registration.getNotifications({ tag: notice.tag })) count += old.data?.count || 0;
  const body = count > 1 && notice.many ? `${notice.many.replace("{count}", count)}\n${notice.line}` : notice.body;
  await self.registration.showNotification(notice.title, {
    body,
    tag: notice.tag,
    renotify: true,
    silent: !!notice.silent,
    icon: ICON,
    data: { url: notice.url, count },
  });
  await self.navigator.setAppBadge?.().catch(() => {});
}

self.addEventListener("push", (event) => {
  let notice = null;
  try {
    notice = event.data?.json();
  } catch {
    return;
  }
  if (notice) event.waitUntil(show(notice));
});

// A page in a hidden tab hands over what its socket was told; a room's page in front has its notification
// taken away: it is being read (static/js/notifications.js).
self.addEventListener("message", (event) => {
  if (event.data?.notice) event.waitUntil(show(event.data.notice));
  if (event.data?.seen) {
    const closing = self.registration.getNotifications({ tag: event.data.seen });
    event.waitUntil(closing.then((shown) => shown.forEach((n) => n.close())));
  }
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let url = new URL(event.notification.data?.url || "/", self.location.origin);
  url = url.origin === self.location.origin ? url.href : self.location.origin; // only ever this site's pages
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (open) {
        await open.focus();
        return open.navigate(url).catch(() => self.clients.openWindow(url)); // a page this worker does not control
      }
      return self.clients.openWindow(url);
    })(),
  );
});
