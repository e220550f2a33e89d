// The console's service worker: the app shell (HTML, scripts, styles, icons) is cached so the
// installed app opens at once and offline; the API is never cached (alerts must be current).
const CACHE = 'hb-console-v1'
const SHELL = ['/console/', '/console/manifest.webmanifest', '/console/icon.svg']

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  )
})

// Network first for the shell (a new build shows at once), the cache when offline; hashed
// assets under /console/assets/ never change, so the cache answers those first.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (event.request.method !== 'GET' || url.origin !== location.origin || !url.pathname.startsWith('/console/')) return
  const hashed = url.pathname.startsWith('/console/assets/')
  event.respondWith(
    (hashed ? caches.match(event.request) : Promise.resolve(undefined)).then(
      (hit) =>
        hit ??
        fetch(event.request)
          .then((res) => {
            if (res.ok) void caches.open(CACHE).then((c) => c.put(event.request, res.clone()))
            return res
          })
          .catch(() => caches.match(event.request).then((r) => r ?? caches.match('/console/'))),
    ),
  )
})

// Web Push (notify/channels/webpush.ts sends {title, body, url, alertId, severity, locale}): shown
// as a notification, one per alert (a later page of the same alert replaces it); a critical one
// stays until touched. Touching it opens the alert's link.
self.addEventListener('push', (event) => {
  let data = {}
  try {
    data = event.data ? event.data.json() : {}
  } catch {
    data = { body: event.data ? event.data.text() : '' }
  }
  const title = data.title || '住房监管 housing-brain'
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || '',
      tag: data.alertId ? `alert-${data.alertId}` : undefined,
      lang: data.locale,
      icon: '/console/icon.svg',
      requireInteraction: data.severity === 'critical',
      data: { url: data.url || '/console/' },
    }),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = (event.notification.data && event.notification.data.url) || '/console/'
  event.waitUntil(self.clients.openWindow(url))
})
