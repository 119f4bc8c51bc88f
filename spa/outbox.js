// Payments logged without signal wait on the phone, each with its payment_id, and are
// sent in order when signal returns: on the `online` event, at app start, on a timer,
// and from the service worker's Background Sync. The API counts a payment_id once, so
// a replay of one the server already got (its answer lost) is harmless. A refusal
// that retrying cannot change (a 4xx, say a cancelled trip) stays as "not logged"
// with the form data until the crew fix or discard it: nothing is dropped silently.
// No DOM here: the service worker sends the queue too.
import { apiFetch, loadSession, phone as store } from "./api.js";

const PREFIX = "out:";
const SYNC_TAG = "scc-outbox";
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(SYNC_TAG) : null;
const listeners = new Set();

/** Call `fn({sent})` whenever the queue changes, here or in another tab or the worker. */
export function onOutboxChange(fn) {
  listeners.add(fn);
  if (channel) channel.onmessage = (e) => listeners.forEach((f) => f(e.data));
}

function changed(sent = []) {
  const note = { sent };
  listeners.forEach((f) => f(note));
  channel?.postMessage(note);
}

/** Every saved payment, oldest first: {payment_id, event_id, body, trip, queued_at, refused}. */
export async function saved() {
  const all = await store.list(PREFIX).catch(() => []);
  return all.sort((a, b) => a.queued_at - b.queued_at);
}

/** Keep a payment on the phone to send later; `trip` names it while offline. */
export async function keep(eventId, body, trip) {
  await store.put(PREFIX + body.payment_id, {
    payment_id: body.payment_id, event_id: eventId, body, queued_at: Date.now(), refused: null,
    trip: { title: trip.title, starts_at: trip.starts_at, ends_at: trip.ends_at },
    saved_by: await saver(),
  });
  changed();
  // Background Sync sends it even if the page is closed before signal returns.
  navigator.serviceWorker?.ready.then((reg) => reg.sync?.register(SYNC_TAG)).catch(() => {});
}

/** Forget a saved payment: after the crew discard it, or once its fix is on its way. */
export async function discard(paymentId) {
  await store.del(PREFIX + paymentId);
  changed();
}

// A status worth retrying: no answer, a timeout, throttling or a server problem.
const worthRetrying = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

let flushing = null;
/** Send what waits, oldest first; stops at the first failure that retrying may fix. */
export function flush() {
  const lock = navigator.locks;
  flushing ??= (lock ? lock.request(SYNC_TAG, sendAll) : sendAll()).finally(() => (flushing = null));
  return flushing;
}

// A saved payment belongs to the account that took the money (issue 21): it is sent
// only with that account's login, so it is never logged under whoever logs in next.
async function saver() {
  const account = (await loadSession().catch(() => null))?.account;
  return account?.id ? { id: account.id, name: account.display_name || account.username || "" } : null;
}

/** Whether the login on this phone may send `p` (one saved before accounts: anyone). */
const mine = (p, me) => !p.saved_by?.id || p.saved_by.id === me?.id;

async function sendAll() {
  const sent = [];
  let refused = 0;
  const me = (await loadSession().catch(() => null))?.account ?? null;
  for (const p of await saved()) {
    if (p.refused || !mine(p, me)) continue;
    try {
      const res = await apiFetch(`/api/events/${encodeURIComponent(p.event_id)}/payments`, { method: "POST", body: p.body });
      await store.del(PREFIX + p.payment_id);
      sent.push(res);
    } catch (err) {
      if (err.status === 401 || worthRetrying(err.status)) break; // after the next login, or later
      await store.put(PREFIX + p.payment_id, { ...p, refused: err.message });
      refused++;
    }
  }
  if (sent.length || refused) changed(sent);
  return sent.length;
}

export const SYNC = SYNC_TAG;
