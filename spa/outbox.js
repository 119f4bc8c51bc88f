// Payments logged without signal wait on the phone, each with its payment_id, and are
// sent in order when signal returns: on the `online` event, at app start, on a timer,
// and from the service worker's Background Sync. The API counts a payment_id once, so
// a replay of one the server already got (its answer lost) is harmless. A refusal
// that retrying cannot change (a 4xx, say a cancelled trip) stays as "not logged"
// with the form data until the crew fix or discard it: nothing is dropped silently.
// One refusal is not the payment's: a receipt address the API refuses. Then the
// payment is sent again, same payment_id, without the receipt (the refusal wrote
// nothing, so it is logged once), and a note says the receipt did not go.
// Boarding marks made without signal wait here too (each with its mark_id, which the
// API counts once), sent in the order they were tapped, after the payments. The
// manifests of today's trips are kept on the phone so the dock works without signal.
// No DOM here: the service worker sends the queue too.
import { apiFetch, loadSession, phone as store } from "./api.js";

const PREFIX = "out:";
const MARKS = "mark:"; // boarding marks not sent yet
const NOTES = "note:"; // payments logged without their receipt: the crew are told
const MANIFEST = "manifest:"; // a trip's manifest as last seen (api.js lastKnown)
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

// A status worth retrying: no answer or a server problem. Never a 4xx: the same body
// would be refused again (it stays "not logged" for the crew to fix or discard).
const worthRetrying = (status) => status === 0 || status >= 500;

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
  let stopped = false;
  const me = (await loadSession().catch(() => null))?.account ?? null;
  for (const p of await saved()) {
    if (p.refused || !mine(p, me)) continue;
    try {
      sent.push(await sendPayment(p));
      await store.del(PREFIX + p.payment_id);
    } catch (err) {
      if (err.status === 401 || worthRetrying(err.status)) {
        stopped = true;
        break; // after the next login, or later
      }
      await store.put(PREFIX + p.payment_id, { ...p, refused: err.message });
      refused++;
    }
  }
  const marksSent = stopped ? 0 : await sendMarks();
  if (sent.length || refused || marksSent) changed(sent);
  return sent.length + marksSent;
}

const paymentsOf = (id) => `/api/events/${encodeURIComponent(id)}/payments`;

// Only the receipt refused: log the payment without it (same payment_id) and say so.
async function sendPayment(p) {
  try {
    return await apiFetch(paymentsOf(p.event_id), { method: "POST", body: p.body });
  } catch (err) {
    if (!(err.status === 400 && err.field === "patron_email" && p.body.patron_email)) throw err;
    const { patron_email: email, ...body } = p.body;
    const res = await apiFetch(paymentsOf(p.event_id), { method: "POST", body });
    await store.put(NOTES + p.payment_id, {
      payment_id: p.payment_id, event_id: p.event_id, body: p.body, trip: p.trip, at: Date.now(),
      text: `Logged without a receipt: the server refused the receipt address ${email}. No receipt went to the patron.`,
    });
    return res;
  }
}

/** Payments logged without their receipt, oldest first: {payment_id, event_id, body, trip, text}. */
export async function notes() {
  const all = await store.list(NOTES).catch(() => []);
  return all.sort((a, b) => a.at - b.at);
}

/** The crew have read a note. */
export async function dismissNote(paymentId) {
  await store.del(NOTES + paymentId);
  changed();
}

// ---- boarding marks ----

let lastQueued = 0;
/** Boarding marks not sent yet, in the order they were tapped:
 * {mark_id, event_id, body: {waiver_id, name, boarded, mark_id}, queued_at, refused}. */
export async function queuedMarks(eventId = null) {
  const all = await store.list(MARKS).catch(() => []);
  return all.filter((m) => !eventId || m.event_id === eventId).sort((a, b) => a.queued_at - b.queued_at);
}

/** Keep a boarding mark on the phone to send in order when there is signal. */
export async function keepMark(eventId, body) {
  lastQueued = Math.max(Date.now(), lastQueued + 1); // two quick taps keep their order
  await store.put(MARKS + body.mark_id, { mark_id: body.mark_id, event_id: eventId, body, queued_at: lastQueued, refused: null });
  changed();
  navigator.serviceWorker?.ready.then((reg) => reg.sync?.register(SYNC_TAG)).catch(() => {});
}

/** Forget a mark the server refused, once the crew have seen why. */
export async function discardMark(markId) {
  await store.del(MARKS + markId);
  changed();
}

async function sendMarks() {
  let done = 0;
  for (const m of await queuedMarks()) {
    if (m.refused) continue;
    const path = `/api/events/${encodeURIComponent(m.event_id)}/boarding`;
    try {
      const data = await apiFetch(path, { method: "POST", body: m.body });
      await store.put(MANIFEST + m.event_id, { data, at: new Date().toISOString() }).catch(() => {});
      await store.del(MARKS + m.mark_id);
    } catch (err) {
      if (err.status === 401 || worthRetrying(err.status)) break;
      await store.put(MARKS + m.mark_id, { ...m, refused: err.message });
    }
    done++;
  }
  return done;
}

/** Keep these trips (today's) and their manifests on the phone, quietly, one at a time:
 * the trip screen and the dock then open without signal. */
export async function keepManifests(ids) {
  for (const id of ids) {
    const trip = `/api/events/${encodeURIComponent(id)}`;
    for (const [key, path] of [[`trip:${id}`, trip], [MANIFEST + id, `${trip}/manifest`]]) {
      try {
        const data = await apiFetch(path);
        await store.put(key, { data, at: new Date().toISOString() });
      } catch (err) {
        if (err.status === 0 || err.status === 401) return;
      }
    }
  }
}

export const SYNC = SYNC_TAG;
