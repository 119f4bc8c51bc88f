// How the page shows things: elements (text always goes in as text nodes: nothing a
// user typed is ever parsed as HTML), form errors, modals, and money and dates as
// text. One module, because the board needs all of it before it can draw: on a bad
// line every module is a request.
import { OPERATOR_TZ } from "./config.js";

/** h("p", {class: "x", onclick: fn}, "text", child) -> element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  el.append(...nodes(children));
  return el;
}

// Children as nodes: text becomes text nodes; null, undefined and false (the result of
// `cond && h(...)`) are left out rather than shown as "null" or "false".
const nodes = (children) => children.flat(Infinity)
  .filter((c) => c !== null && c !== undefined && c !== false)
  .map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));

/** Replace an element's children, leaving out null, undefined and false as h() does. */
export const fill = (el, ...children) => el.replaceChildren(...nodes(children));

export const $ = (sel, root = document) => root.querySelector(sel);

/** A UUID v4 for idempotency keys; randomUUID needs a secure context, so fall back. */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Mark data kept on the phone: "As of 4:12 PM · updating…", or "No signal · as of 4:12 PM". */
export function markAsOf(el, at, offline = false) {
  el.hidden = !at;
  if (at) el.textContent = offline ? `No signal · as of ${formatClock(at)}` : `As of ${formatClock(at)} · updating…`;
}

let toastTimer;
let toastOn = null; // the screen (location.hash) the toast is about
/**
 * A short status line, read out by screen readers; it lies over the header's brand,
 * never over a button. It belongs to one screen: the current one, or `on` (the hash
 * about to be shown, when the action moves on), and goes when the crew leave it.
 */
export function toast(text, { on = location.hash } = {}) {
  const el = $("#toast");
  el.textContent = text;
  el.classList.add("show");
  toastOn = on;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, 4000);
}

export function hideToast() {
  clearTimeout(toastTimer);
  toastOn = null;
  const el = $("#toast");
  el.classList.remove("show");
  el.textContent = "";
}
window.addEventListener("hashchange", () => toastOn !== null && location.hash !== toastOn && hideToast());

// ---- form errors: one message line per form, the named field marked invalid ----

export function clearErrors(form) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const box = form.querySelector(".error");
  box.textContent = "";
  box.hidden = true;
}

/** Show `message` in the form's error line; mark and focus the field the API named. */
export function showError(form, message, field = null) {
  const box = form.querySelector(".error");
  const input = field && form.querySelector(`[data-field="${CSS.escape(field)}"]`);
  let text = message;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    // The API names fields by their JSON key ("patron_name"); crew know the label.
    const label = form.querySelector(`label[for="${input.id}"]`)?.firstChild?.textContent?.trim();
    if (label) text = message.replace(new RegExp(`^${field}\\b`), label);
  }
  box.textContent = text;
  box.hidden = false;
  (input || box).focus();
}

// ---- submitting a form: one request at a time, its button busy meanwhile ----

const busyForms = new WeakSet();
/**
 * Run `send()` for a form with its submit button disabled (a double tap sends once).
 * An error goes to `onError` first (true means handled); a 401 is left to the login
 * screen; anything else is shown in the form.
 */
export async function submitting(form, send, { busyText, onError } = {}) {
  if (busyForms.has(form)) return;
  const button = form.querySelector("[type=submit]");
  const label = button.textContent;
  busyForms.add(form);
  button.disabled = true;
  if (busyText) button.textContent = busyText;
  try {
    await send();
  } catch (err) {
    if (!onError?.(err) && err.status !== 401) showError(form, err.message, err.field);
  } finally {
    busyForms.delete(form);
    button.disabled = false;
    button.textContent = label;
  }
}

// ---- modals: shown with the `active` class; focus is trapped and then returned ----

const open = [];
const FOCUSABLE = "a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex='-1'])";

function visibleFocusables(modal) {
  return [...modal.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
}

function onKey(ev) {
  const top = open[open.length - 1];
  if (!top) return;
  if (ev.key === "Escape") {
    ev.preventDefault();
    closeModal(top.modal);
  } else if (ev.key === "Tab") {
    const els = visibleFocusables(top.modal);
    if (!els.length) return;
    const first = els[0];
    const last = els[els.length - 1];
    if (ev.shiftKey && (document.activeElement === first || !top.modal.contains(document.activeElement))) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (document.activeElement === last || !top.modal.contains(document.activeElement))) {
      ev.preventDefault();
      first.focus();
    }
  }
}
document.addEventListener("keydown", onKey);

/**
 * Open a modal. `returnTo` is a function giving the element to focus afterwards (the
 * element that opened it may have been redrawn meanwhile); `onClose` runs on any close.
 */
export function openModal(modal, { focus, returnTo, onClose } = {}) {
  const opener = document.activeElement;
  open.push({ modal, opener, returnTo, onClose });
  for (const el of document.querySelectorAll("body > :not(.modal)")) el.inert = true;
  modal.classList.add("active");
  modal.inert = false;
  (focus || visibleFocusables(modal)[0])?.focus();
}

export function closeModal(modal) {
  const i = open.findIndex((m) => m.modal === modal);
  if (i < 0) return;
  const [entry] = open.splice(i, 1);
  modal.classList.remove("active");
  if (!open.length) for (const el of document.querySelectorAll("body > :not(.modal)")) el.inert = false;
  entry.onClose?.();
  let target = entry.opener;
  if (!target?.isConnected) target = entry.returnTo?.();
  target?.focus?.();
}

// Tapping the dimmed backdrop or a [data-close] button closes, like Esc.
document.addEventListener("click", (ev) => {
  const modal = ev.target.classList?.contains("modal") ? ev.target : ev.target.closest?.("[data-close]")?.closest(".modal");
  if (modal) closeModal(modal);
});

// ---- money ----
// Money is integer cents everywhere; dollars exist only as text typed or shown.
// Parsing works on the digits as text, so "0.29" is 29 cents, never 28.999...

const DOLLARS = /^(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d*))?$/;
export const MAX_CENTS = 99999999999; // $999,999,999.99: well inside exact integers

/** "1,000.50" -> 100050. Throws Error with a message for the crew when it is not money. */
export function parseDollars(text) {
  const raw = String(text ?? "").trim().replace(/^\$\s*/, "");
  const m = DOLLARS.exec(raw);
  if (!raw || !m || (!m[1] && !m[2])) throw new Error("Enter an amount like 25 or 12.50");
  const frac = m[2] ?? "";
  if (frac.length > 2) throw new Error("Use at most two digits for cents");
  const whole = m[1].replace(/,/g, "") || "0";
  if (whole.length > 9) throw new Error("That amount is too large");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

/** A positive amount of money: parseDollars that also refuses zero. */
export function parsePositiveDollars(text) {
  const cents = parseDollars(text);
  if (cents <= 0) throw new Error("The amount must be more than $0.00");
  return cents;
}

/** 123456 -> "$1,234.56"; -500 -> "-$5.00". */
export function formatCents(cents) {
  const n = Number(cents);
  if (!Number.isInteger(n)) return "—";
  const abs = Math.abs(n);
  const dollars = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+$)/g, ",");
  return `${n < 0 ? "-" : ""}$${dollars}.${String(abs % 100).padStart(2, "0")}`;
}

/** Cents as text for an input field: 1250 -> "12.50", 1200 -> "12". */
export function centsToInput(cents) {
  if (!Number.isInteger(cents)) return "";
  const rest = cents % 100;
  return `${Math.floor(cents / 100)}${rest ? "." + String(rest).padStart(2, "0") : ""}`;
}

// ---- dates ----
// Dates for the board. Event times arrive as ISO 8601 already in the operator's zone
// ("2026-07-04T17:30:00-07:00"): the wall time is read from the text itself, because
// an offset alone cannot name a zone for Intl. Formatting uses UTC so nothing shifts.

const pad = (n) => String(n).padStart(2, "0");

/** Today's date (YYYY-MM-DD) in the named zone; the device's zone if it is unknown. */
export function todayIn(zone, now = new Date()) {
  try {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    }).formatToParts(now);
    const get = (t) => parts.find((p) => p.type === t).value;
    return `${get("year")}-${get("month")}-${get("day")}`;
  } catch {
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }
}

function utcOf(ymd) {
  const [y, m, d] = ymd.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

/** "2026-02-27" + 3 -> "2026-03-02" (calendar arithmetic, no DST surprises). */
export function addDays(ymd, days) {
  const dt = utcOf(ymd);
  dt.setUTCDate(dt.getUTCDate() + days);
  return `${dt.getUTCFullYear()}-${pad(dt.getUTCMonth() + 1)}-${pad(dt.getUTCDate())}`;
}

export const isYmd = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s ?? "") && !isNaN(utcOf(s));

/** The local date part of an ISO time: "2026-07-04T17:30:00-07:00" -> "2026-07-04". */
export const datePart = (iso) => String(iso ?? "").slice(0, 10);

/** The wall-clock "HH:MM" of an ISO time, as written. */
export const timePart = (iso) => String(iso ?? "").slice(11, 16);

const fmt = (opts) => new Intl.DateTimeFormat(undefined, { ...opts, timeZone: "UTC" });

/** "2026-07-04" -> "Sat, Jul 4". */
export function formatDay(ymd) {
  if (!isYmd(ymd)) return "";
  return fmt({ weekday: "short", month: "short", day: "numeric" }).format(utcOf(ymd));
}

/** "2026-07-04T17:30:00-07:00" -> "5:30 PM" (in the device's 12/24 h habit). */
export function formatTime(iso) {
  const m = /^(\d{2}):(\d{2})$/.exec(timePart(iso));
  if (!m) return "";
  return fmt({ hour: "numeric", minute: "2-digit" }).format(new Date(Date.UTC(2000, 0, 1, +m[1], +m[2])));
}

/** A moment such as logged_at: "Jul 4, 5:30 PM". */
export function formatStamp(iso) {
  const day = datePart(iso);
  if (!isYmd(day)) return "";
  const short = fmt({ month: "short", day: "numeric" }).format(utcOf(day));
  return `${short}, ${formatTime(iso)}`;
}

/** "5:30 PM – 8:00 PM" for a trip. */
export function formatSpan(startIso, endIso) {
  const a = formatTime(startIso);
  const b = formatTime(endIso);
  return b ? `${a} – ${b}` : a;
}

/** A moment (any ISO time) as the operator's clock shows it: "4:12 PM". */
export function formatClock(iso) {
  return new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", timeZone: OPERATOR_TZ }).format(new Date(iso));
}

const sheets = new Map();
/** Load a stylesheet of ours once (money.css, dock.css, print.css), whichever screen asks
 * first; resolves when it applies. */
export function useStyles(name) {
  if (!sheets.has(name)) {
    if (document.querySelector(`link[href="${name}"]`)) return Promise.resolve();
    sheets.set(name, new Promise((resolve) => {
      const link = h("link", { rel: "stylesheet", href: name, "data-dock": name });
      link.addEventListener("load", resolve);
      link.addEventListener("error", resolve); // print unstyled rather than not at all
      document.head.append(link);
    }));
  }
  return sheets.get(name);
}
