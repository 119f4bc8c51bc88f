// Every request to the API goes through apiFetch: it adds the crew token and JSON,
// turns the API's error JSON ({code, message, field}) into an ApiError, and on a 401
// forgets the session and sends the crew back to the login screen. `phone` is what
// the phone keeps between visits. No DOM here: the service worker sends queued
// payments through it too.
import { API_BASE } from "./config.js";

// ---- what the phone keeps, in IndexedDB: the login, the last board and trips seen,
// and payments not sent yet (outbox.js) ----
const STORE = "kv";
let opened = null;

function db() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open("scc", 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

async function run(mode, work) {
  const t = (await db()).transaction(STORE, mode);
  const req = work(t.objectStore(STORE));
  return new Promise((resolve, reject) => {
    t.oncomplete = () => resolve(req.result);
    t.onerror = t.onabort = () => reject(t.error);
  });
}

const get = (key) => run("readonly", (s) => s.get(key));
const put = (key, value) => run("readwrite", (s) => s.put(value, key));
const del = (key) => run("readwrite", (s) => s.delete(key));
const list = (prefix) => run("readonly", (s) => s.getAll(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
/** What the phone keeps (IndexedDB): get, put, del, and list(prefix) in key order. */
export const phone = { get, put, del, list };

// What lastKnown keeps of the board, of trips and of their manifests holds guests' and
// minors' names and notes: log out forgets it all (saved payments and boarding taps
// stay: they are not sent yet).
const CACHED = ["board:", "trip:", "manifest:"];
/** Forget every cached board, trip and manifest on this phone. */
export function forgetCached() {
  return run("readwrite", (s) => {
    let last = null;
    for (const prefix of CACHED) last = s.delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
    return last;
  }).catch(() => {});
}

const TIMEOUT_MS = 20000; // a weak signal at the dock: give up and let the crew retry

export class ApiError extends Error {
  constructor(status, code, message, field = null, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

let onUnauthorized = () => {};
/** Set what happens when the API says the session is no longer valid. */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

// The login lives in IndexedDB until it expires or the crew log out: a tab the phone
// discards, or a reload out of signal, must not mean logging in again (which needs
// signal). The service worker reads it too, to send queued payments.
const SESSION = "session";
let current; // undefined until read from the phone, then the session or null
const live = (s) => (s?.token && !(s.expires_at && Date.parse(s.expires_at) <= Date.now()) ? s : null);

/** Read the session kept on the phone (once); resolves to it or null. */
export async function loadSession() {
  if (current === undefined) {
    const kept = live(await get(SESSION).catch(() => null));
    if (current === undefined) current = kept; // unless a login or log out came meanwhile
  }
  return current;
}

/** The session as last read (call loadSession first), or null once it has expired. */
export function session() {
  current = live(current);
  return current;
}

export function saveSession(token, expiresAt, account = null) {
  current = { token, expires_at: expiresAt, account };
  showRole();
  return put(SESSION, current);
}

/** The logged-in account ({id, username, display_name, role, ...}), if known. */
export function myAccount() {
  return session()?.account ?? null;
}

/** Mark the page with the role, so CSS hides what it may not use (.needs-captain). */
export function showRole() {
  if (typeof document === "undefined") return; // the service worker has no page
  const role = myAccount()?.role;
  if (role) document.body.dataset.role = role;
  else delete document.body.dataset.role;
}

export function clearSession() {
  current = null;
  showRole();
  return del(SESSION).catch(() => {});
}

const FALLBACK = {
  400: "The server could not accept that.",
  401: "Please log in.",
  403: "Not allowed.",
  404: "Not found: it may have been removed.",
  409: "Someone else changed this first.",
  413: "That is too large to send.",
  429: "Too many requests. Wait a moment and try again.",
};

/**
 * Call the API. `auth: false` for the login request itself (its 401 means a wrong
 * password, not an expired session). Resolves to the parsed JSON (`raw`: {text, headers},
 * for a CSV); rejects with ApiError.
 */
export async function apiFetch(path, { method = "GET", body, auth = true, started = null, raw = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = auth ? (await loadSession(), session()?.token) : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
  let res;
  try {
    // `started`: the same request, already sent by the page's first script (index.html).
    res = await (started ? Promise.race([started, new Promise((_, fail) => (ctrl.signal.onabort = fail))]) : fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      signal: ctrl.signal,
    }));
  } catch {
    throw new ApiError(0, "network", "No connection to the server. Check the signal and try again.");
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  let text = "";
  try {
    text = await res.text();
    data = raw && res.ok ? null : text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.ok) return raw ? { text, headers: res.headers } : data;
  const sessionLost = auth && (res.status === 401 || deniedByGateway(res, data, token));
  const err = new ApiError(
    sessionLost ? 401 : res.status,
    data?.code || `http_${res.status}`,
    data?.message || data?.Message || FALLBACK[res.status] || `The server had a problem (${res.status}). Try again.`,
    data?.field || null,
    res.headers.get("Retry-After"),
  );
  // A token replaced while this was on its way (a new password gives a new token, and
  // ends the old one): its refusal does not end the session that replaced it.
  if (sessionLost && (!token || session()?.token === token)) {
    clearSession();
    onUnauthorized("Your session has ended. Please log in again.");
  }
  throw err;
}

// API Gateway answers a token its authorizer rejects (expired, signed with an old key)
// with 403 AccessDeniedException and its own body, not the app's {code} JSON: that is
// a lost session too, not a permission problem (the app's own 403s carry a code).
function deniedByGateway(res, data, token) {
  if (res.status !== 403 || !token || data?.code) return false;
  return res.headers.get("x-amzn-ErrorType") === "AccessDeniedException" ||
    /not authorized to access/i.test(data?.Message ?? data?.message ?? "");
}

/** Retry-After (seconds or an HTTP date) as whole minutes, at least 1. */
export function retryMinutes(retryAfter) {
  let secs = Number(retryAfter);
  if (!Number.isFinite(secs)) secs = (Date.parse(retryAfter) - Date.now()) / 1000;
  if (!Number.isFinite(secs)) secs = 60;
  return Math.max(1, Math.ceil(secs / 60));
}

/**
 * Data the phone keeps: `show(data, asOf)` gets the copy saved under `key` at once
 * (asOf: when it was fetched), then the server's (asOf null), which is saved in turn.
 * Out of signal the saved copy stays on screen (`show(data, asOf, true)`); with none,
 * the ApiError is thrown.
 */
export async function lastKnown(key, path, show, started = null) {
  const kept = await get(key).catch(() => null);
  if (kept) show(kept.data, kept.at);
  try {
    const data = await apiFetch(path, { started });
    show(data, null);
    await put(key, { data, at: new Date().toISOString() }).catch(() => {});
  } catch (err) {
    if (!kept || err.status !== 0) throw err;
    show(kept.data, kept.at, true);
  }
}
