// The Log Payment modal. Each entry gets one payment_id (the API's idempotency key)
// when it starts; retries of that entry reuse it, so a double tap, a retry after a
// lost reply or a reopened draft can never log the money twice. Without signal (or
// when the request gets no answer) the payment is saved on the phone with that id
// and sent later (outbox.js): the modal says so.
import { apiFetch } from "./api.js";
import { discard, keep } from "./outbox.js";
import { $, centsToInput, clearErrors, datePart, formatCents, formatDay, formatSpan, h, newId, openModal, parsePositiveDollars, showError, submitting } from "./ui.js";

const modal = $("#pay-modal");
const form = $("#pay-form");
const done = $("#pay-done");
const input = (name) => $(`#pay-${name}`);
let entry = null; // {eventId, paymentId, event, onLogged, logged, replaces}

function startEntry(ev) {
  form.reset();
  clearErrors(form);
  entry = { eventId: ev.id, paymentId: newId(), logged: false, replaces: null };
}

/**
 * Open the modal for a trip. A draft left for the same trip (say after an error) is
 * kept. `fix`: a saved payment the API refused, to correct and send as a new entry.
 */
export function openPayment(ev, { onLogged, returnTo, fix = null } = {}) {
  if (fix || !entry || entry.eventId !== ev.id || entry.logged) startEntry(ev);
  if (fix) {
    const b = fix.body;
    input("name").value = b.patron_name;
    input("amount").value = centsToInput(b.amount_cents);
    input("method").value = b.method;
    input("note").value = b.note ?? "";
    entry.replaces = fix.payment_id;
  }
  entry.event = ev;
  entry.onLogged = onLogged;
  $("#pay-trip").replaceChildren(
    h("strong", {}, ev.title), " · ",
    `${formatDay(datePart(ev.starts_at))}, ${formatSpan(ev.starts_at, ev.ends_at)}`);
  form.hidden = false;
  done.hidden = true;
  openModal(modal, { focus: input("name"), returnTo });
}

function finish(current, message, kept = false) {
  current.logged = true;
  if (current.replaces) discard(current.replaces);
  $("#pay-done-msg").className = kept ? "notice" : "success"; // saved is not logged yet
  $("#pay-done-msg").textContent = message;
  form.hidden = true;
  done.hidden = false;
  $("#pay-done-msg").focus();
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!entry || entry.logged) return;
  clearErrors(form);
  const name = input("name").value.trim();
  if (!name) return showError(form, "Enter the patron's name.", "patron_name");
  let cents;
  try {
    cents = parsePositiveDollars(input("amount").value);
  } catch (err) {
    return showError(form, err.message, "amount_cents");
  }
  const body = { payment_id: entry.paymentId, patron_name: name, amount_cents: cents, method: input("method").value };
  const note = input("note").value.trim();
  if (note) body.note = note;
  const current = entry;
  const what = `${formatCents(cents)} (${body.method}) from ${name}`;
  const saveOnPhone = () => keep(current.eventId, body, current.event).then(
    () => finish(current, `Saved on this phone: ${what}. Not logged yet: it will be sent when there is signal.`, true),
    (err) => showError(form, `This phone could not save it (${err?.message}). Try again.`));
  await submitting(form, async () => {
    if (navigator.onLine === false) return saveOnPhone();
    const res = await apiFetch(`/api/events/${encodeURIComponent(current.eventId)}/payments`, { method: "POST", body });
    const due = Number.isInteger(res.event.balance_cents)
      ? ` Balance due: ${formatCents(Math.max(res.event.balance_cents, 0))}.` : "";
    finish(current, `Logged ${what}.${due}`);
    current.onLogged?.(res);
  }, {
    busyText: "Logging…",
    // No answer at all (no signal, a timeout, a lost reply): keep it, same payment_id.
    onError: (err) => err.status === 0 && (saveOnPhone(), true),
  });
});

$("#pay-another").addEventListener("click", () => {
  startEntry(entry.event);
  form.hidden = false;
  done.hidden = true;
  input("name").focus();
});
