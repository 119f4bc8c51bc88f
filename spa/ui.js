// How the page shows things: elements (text always goes in as text nodes: nothing a
// user typed is ever parsed as HTML), and money and dates as text. What the board
// needs to draw, in one module: on a bad line every module is a request. What the
// screens that change things need (forms, modals, toasts) is in forms.js.
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

/** Mark data kept on the phone: "As of 4:12 PM · updating…", or "No signal · as of 4:12 PM". */
export function markAsOf(el, at, offline = false) {
  el.hidden = !at;
  if (at) el.textContent = offline ? `No signal · as of ${formatClock(at)}` : `As of ${formatClock(at)} · updating…`;
}

// ---- money ----
// Money is integer cents everywhere; dollars exist only as text typed or shown.

/** 123456 -> "$1,234.56"; -500 -> "-$5.00". */
export function formatCents(cents) {
  const n = Number(cents);
  if (!Number.isInteger(n)) return "—";
  const abs = Math.abs(n);
  const dollars = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+$)/g, ",");
  return `${n < 0 ? "-" : ""}$${dollars}.${String(abs % 100).padStart(2, "0")}`;
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
