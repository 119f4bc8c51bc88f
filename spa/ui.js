// Small DOM helpers. Text always goes in as text nodes: nothing a user typed is
// ever parsed as HTML.
import { formatClock } from "./dates.js";

/** h("p", {class: "x", onclick: fn}, "text", child) -> element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

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
/** A short status line, read out by screen readers. */
export function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
}

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
