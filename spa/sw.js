// The service worker: the page's own files from a cache, so the dispatch page opens
// with no signal at all, and Background Sync sends payments saved on the phone.
// VERSION and SHELL are written by `scripts/sync_spa.py stamp` (push refuses a stale
// stamp). A new version installs beside the old one and takes over at once, but a page
// already open keeps the code it started with: it changes on the next load, never in
// the middle of a payment. The API is never cached here (the page keeps last-known
// data in IndexedDB).
import { flush, SYNC } from "./outbox.js";

const VERSION = "f6e7a338cb3d";
const SHELL = ["account.js", "api.js", "app.js", "board.js", "config.js", "crew.js", "detail.js", "dock.css", "exports.js", "fleet.js", "forms.js", "icon.svg", "index.html", "login.js", "manifest.js", "money.css", "outbox.js", "payment.js", "print.css", "qr.js", "saved.js", "styles.css", "trip.js", "ui.js"];
const CACHE = `scc-shell-${VERSION}`;

self.addEventListener("install", (e) => {
  // no-cache: revalidate with the server, so a file the browser cached cannot pose as the new one.
  e.waitUntil(caches.open(CACHE)
    .then((c) => c.addAll(SHELL.map((f) => new Request(f, { cache: "no-cache" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("scc-shell-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  const scope = new URL(self.registration.scope);
  if (e.request.method !== "GET" || url.origin !== scope.origin) return;
  // The page lives at the scope's root (its screens are #/ paths): that is index.html.
  const file = url.pathname === scope.pathname ? "index.html" : url.pathname.slice(scope.pathname.length);
  if (!SHELL.includes(file)) return; // the API, waiver pages, anything else: the network
  e.respondWith(caches.open(CACHE).then((c) => c.match(file)).then((hit) => hit ?? fetch(e.request)));
});

self.addEventListener("sync", (e) => {
  if (e.tag === SYNC) e.waitUntil(flush());
});
