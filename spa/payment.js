// The Log Payment modal. Each entry gets one payment_id (the API's idempotency key)
// when it starts; retries of that entry reuse it, so a double tap, a retry after a
// lost reply or a reopened draft can never log the money twice.
import { apiFetch } from "./api.js";
import { datePart, formatDay, formatSpan } from "./dates.js";
import { formatCents, parsePositiveDollars } from "./money.js";
import { $, clearErrors, h, newId, openModal, showError, submitting } from "./ui.js";

const modal = $("#pay-modal");
const form = $("#pay-form");
const done = $("#pay-done");
let entry = null; // {eventId, paymentId, event, onLogged, logged}

function startEntry(ev) {
  form.reset();
  clearErrors(form);
  entry = { eventId: ev.id, paymentId: newId(), logged: false };
}

/** Open the modal for a trip. A draft left for the same trip (say after an error) is kept. */
export function openPayment(ev, { onLogged, returnTo } = {}) {
  if (!entry || entry.eventId !== ev.id || entry.logged) startEntry(ev);
  entry.event = ev;
  entry.onLogged = onLogged;
  $("#pay-trip").replaceChildren(
    h("strong", {}, ev.title), " · ",
    `${formatDay(datePart(ev.starts_at))}, ${formatSpan(ev.starts_at, ev.ends_at)}`);
  form.hidden = false;
  done.hidden = true;
  openModal(modal, { focus: $("#pay-name"), returnTo });
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!entry || entry.logged) return;
  clearErrors(form);
  const name = $("#pay-name").value.trim();
  if (!name) return showError(form, "Enter the patron's name.", "patron_name");
  let cents;
  try {
    cents = parsePositiveDollars($("#pay-amount").value);
  } catch (err) {
    return showError(form, err.message, "amount_cents");
  }
  const body = { payment_id: entry.paymentId, patron_name: name, amount_cents: cents, method: $("#pay-method").value };
  const note = $("#pay-note").value.trim();
  if (note) body.note = note;
  const current = entry;
  await submitting(form, async () => {
    const res = await apiFetch(`/api/events/${encodeURIComponent(current.eventId)}/payments`, { method: "POST", body });
    current.logged = true;
    const ev = res.event;
    const due = Number.isInteger(ev.balance_cents)
      ? ` Balance due: ${formatCents(Math.max(ev.balance_cents, 0))}.` : "";
    $("#pay-done-msg").textContent =
      `Logged ${formatCents(cents)} (${body.method}) from ${name}.${due}`;
    form.hidden = true;
    done.hidden = false;
    $("#pay-done-msg").focus();
    current.onLogged?.(res);
  }, { busyText: "Logging…" });
});

$("#pay-another").addEventListener("click", () => {
  startEntry(entry.event);
  form.hidden = false;
  done.hidden = true;
  $("#pay-name").focus();
});

