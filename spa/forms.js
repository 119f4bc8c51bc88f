// What the screens that change things need, and the board does not: one error line
// per form with the named field marked, one request at a time per form, modals with a
// focus trap, toasts, ids for idempotency keys, dollars typed as text read as integer
// cents, and stylesheets loaded on demand. Not on the board's path.
import { $, h } from "./ui.js";

/** The line a form shows its error in (showError fills it). */
export const errorLine = () => h("p", { class: "error", role: "alert", tabindex: "-1", hidden: true });

/** A form's buttons row: Close (or `close`) and the submit button. */
export const formButtons = (submit, close = "Close") => h("div", { class: "buttons" },
  h("button", { type: "button", class: "ghost", "data-close": true }, close), " ", submit);

/** A modal sheet, `${name}-modal` titled by its h2 `${name}-title`, added to the page. */
export function sheet(name, title, ...children) {
  const modal = h("div", { class: "modal", id: `${name}-modal` },
    h("div", { class: "sheet", role: "dialog", "aria-modal": "true", "aria-labelledby": `${name}-title` },
      h("h2", { id: `${name}-title` }, title), ...children));
  document.body.append(modal);
  return modal;
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

/** Cents as text for an input field: 1250 -> "12.50", 1200 -> "12". */
export function centsToInput(cents) {
  if (!Number.isInteger(cents)) return "";
  const rest = cents % 100;
  return `${Math.floor(cents / 100)}${rest ? "." + String(rest).padStart(2, "0") : ""}`;
}

// ---- toasts ----

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

/** A UUID v4 for idempotency keys; randomUUID needs a secure context, so fall back. */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
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
