// The Log Payment modal. Each entry gets one payment_id (the API's idempotency key)
// when it starts; retries of that entry reuse it, so a double tap, a retry after a
// lost reply or a reopened draft can never log the money twice. Without signal (or
// when the request gets no answer) the payment is saved on the phone with that id
// and sent later (outbox.js): the modal says so.
// A payment is a fare (the trip's paid total) or a tip (never part of it) for the
// trip's crew, split evenly by the API, or for one person of that crew. An optional
// patron email gets the patron a receipt. The modal is built here, not in index.html,
// so the board's first load does not carry it.
import { apiFetch, myAccount } from "./api.js";
import { centsToInput, clearErrors, errorLine, formButtons, newId, openModal, parsePositiveDollars, sheet, showError, submitting, useStyles } from "./forms.js";
import { discard, keep } from "./outbox.js";
import { $, datePart, fill, formatCents, formatDay, formatSpan, h } from "./ui.js";

let entry = null; // {eventId, paymentId, event, onLogged, logged, replaces}

useStyles("money.css");

const CREW = "crew"; // tip_for: split among the trip's crew accounts
// The API's rule for an email address (chalicelib/validation.py EMAIL), so a payment
// saved without signal is not refused later for its receipt address: `bob@gmail`
// passes the browser's own type=email check but not this one.
export const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;
const METHODS = [["cash", "Cash"], ["card", "Card"], ["check", "Check"], ["venmo", "Venmo"], ["zelle", "Zelle"], ["other", "Other"]];
const kindChoice = (value, label) => h("label", { class: "choice" },
  h("input", { type: "radio", name: "pay-kind", value, id: `pay-kind-${value}`, checked: value === "fare" }), label);
const tipWhoLine = h("p", { id: "pay-tip-who", class: "hint", "aria-live": "polite" });
const tipFor = h("div", { id: "pay-tip", hidden: true },
  h("label", { for: "pay-tip-for" }, "Tip for"),
  h("select", { id: "pay-tip-for", "data-field": "tip_for" }),
  tipWhoLine);
const form = h("form", { id: "pay-form", novalidate: true },
  h("label", { for: "pay-name" }, "Patron name"),
  h("input", { id: "pay-name", "data-field": "patron_name", autocomplete: "off", required: true, maxlength: "200" }),
  h("label", { for: "pay-amount" }, "Amount ($)"),
  h("input", { id: "pay-amount", "data-field": "amount_cents", inputmode: "decimal", autocomplete: "off", required: true, maxlength: "16", placeholder: "0.00" }),
  h("label", { for: "pay-method" }, "Method"),
  h("select", { id: "pay-method", "data-field": "method" }, METHODS.map(([value, label]) => h("option", { value }, label))),
  h("fieldset", { class: "choices", "data-field": "kind", id: "pay-kind" },
    h("legend", {}, "What is it?"),
    kindChoice("fare", "Fare"),
    kindChoice("tip", "Tip")),
  tipFor,
  h("label", { for: "pay-email" }, "Patron email for a receipt ", h("span", { class: "hint" }, "(optional)")),
  h("input", { id: "pay-email", type: "email", "data-field": "patron_email", autocomplete: "off", inputmode: "email", autocapitalize: "none", spellcheck: "false", maxlength: "254" }),
  h("label", { for: "pay-note" }, "Note ", h("span", { class: "hint" }, "(optional)")),
  h("input", { id: "pay-note", "data-field": "note", autocomplete: "off", maxlength: "500" }),
  errorLine(),
  formButtons(h("button", { type: "submit", class: "primary", id: "pay-submit" }, "Log payment")));
const done = h("div", { id: "pay-done", hidden: true },
  h("p", { class: "success", id: "pay-done-msg", role: "status", tabindex: "-1" }),
  h("div", { class: "buttons" },
    h("button", { type: "button", class: "ghost", id: "pay-another" }, "Log another"), " ",
    h("button", { type: "button", class: "primary", "data-close": true }, "Done")));
const modal = sheet("pay", "Log Payment", h("p", { id: "pay-trip", class: "sub" }), form, done);
const input = (name) => $(`#pay-${name}`);
const isTip = () => $("#pay-kind-tip").checked;
/** Show "Tip for" and name the button after what is being logged. */
function showKind() {
  tipFor.hidden = !isTip();
  $("#pay-submit").textContent = isTip() ? "Log tip" : "Log payment";
}
form.addEventListener("change", (e) => {
  if (e.target.name === "pay-kind") showKind();
  if (e.target.name === "pay-kind" || e.target.id === "pay-tip-for") sayWhoShares();
});

/** Who shares the tip, said as soon as Tip is chosen (before anything is filled in);
 * on a trip without crew accounts, a crew member can put themself on its crew. */
function sayWhoShares() {
  const ev = entry?.event;
  if (!ev || !isTip()) return;
  const people = ev.crew_accounts ?? [];
  const select = input("tip-for");
  const me = myAccount();
  const canJoin = me?.id && me.id !== "admin" && !people.some((p) => p.account_id === me.id) && ev.status !== "cancelled";
  if (select.value && select.value !== CREW) {
    tipWhoLine.replaceChildren(`All of it goes to ${select.selectedOptions[0].textContent}.`);
  } else if (people.length) {
    tipWhoLine.replaceChildren(`Shared evenly by ${people.map((p) => p.name).join(", ")}.`);
  } else {
    tipWhoLine.replaceChildren("Nobody on this trip's crew has an account yet, so a tip for the crew has nobody to go to.",
      canJoin ? " " : " The captain adds the crew to the trip.");
  }
  if (canJoin && !people.length) {
    tipWhoLine.append(h("button", { type: "button", class: "small", id: "pay-join-crew", onclick: joinCrew }, "Put me on this trip's crew"));
  }
}

async function joinCrew(e) {
  const current = entry;
  const button = e.currentTarget;
  button.disabled = true;
  try {
    const res = await apiFetch(`/api/events/${encodeURIComponent(current.eventId)}/crew`, { method: "POST", body: {} });
    if (entry !== current) return;
    current.event = { ...current.event, crew_ids: res.event.crew_ids, crew_accounts: res.event.crew_accounts, version: res.event.version };
    await fillTipFor(current.event);
    sayWhoShares();
    current.onCrew?.(res.event);
  } catch (err) {
    button.disabled = false;
    if (err.status !== 401) showError(form, err.status === 0 ? "No signal: joining the crew needs signal. Try again when there is." : err.message, "tip_for");
  }
}

let accounts = null; // captains and owners: {id: display name}, once fetched

/** The trip's crew accounts as [{account_id, name}]: the API's names, else what we can learn. */
async function crewOf(ev) {
  if (Array.isArray(ev.crew_accounts)) return ev.crew_accounts;
  const ids = Array.isArray(ev.crew_ids) ? ev.crew_ids : [];
  const me = myAccount();
  if (!accounts && (me?.role === "captain" || me?.role === "owner")) {
    try {
      accounts = Object.fromEntries((await apiFetch("/api/accounts")).accounts.map((a) => [a.id, a.display_name]));
    } catch {
      // no signal: the crew as a whole can still be chosen
    }
  }
  const name = (id) => accounts?.[id] ?? (id === me?.id ? me.display_name : null);
  return ids.filter(name).map((id) => ({ account_id: id, name: name(id) }));
}

/** Fill "Tip for": the trip's crew as a whole, then each person; keep `chosen` selected. */
async function fillTipFor(ev, chosen = CREW) {
  const select = input("tip-for");
  const people = await crewOf(ev);
  if (entry?.eventId !== ev.id) return; // another trip was opened meanwhile
  const keep = select.value || chosen;
  const known = new Set(people.map((p) => p.account_id));
  fill(select,
    h("option", { value: CREW }, "The trip's crew (split evenly)"),
    people.map((p) => h("option", { value: p.account_id }, p.name)),
    // A saved tip for someone not listed here (fix and send): keep it choosable.
    keep !== CREW && !known.has(keep) && h("option", { value: keep }, "The person chosen before"));
  select.value = keep;
  sayWhoShares();
}

function startEntry(ev) {
  form.reset();
  clearErrors(form);
  showKind();
  input("tip-for").replaceChildren();
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
    input("email").value = b.patron_email ?? "";
    $(`#pay-kind-${b.kind === "tip" ? "tip" : "fare"}`).checked = true;
    showKind();
    entry.replaces = fix.payment_id;
  }
  entry.event = ev;
  entry.onLogged = onLogged;
  $("#pay-trip").replaceChildren(
    h("strong", {}, ev.title), " · ",
    `${formatDay(datePart(ev.starts_at))}, ${formatSpan(ev.starts_at, ev.ends_at)}`);
  form.hidden = false;
  done.hidden = true;
  const was = fix?.body.tip_for;
  fillTipFor(ev, Array.isArray(was) ? was[0] : input("tip-for").value || CREW);
  openModal(modal, { focus: input("name"), returnTo });
}

/** Who a tip is for, in words, from the "Tip for" choice. */
const tipWho = () => {
  const select = input("tip-for");
  return select.value === CREW || !select.value ? "the trip's crew" : select.selectedOptions[0].textContent;
};

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
  const tip = isTip();
  if (tip) {
    const to = input("tip-for").value || CREW;
    const crewIds = entry.event.crew_ids ?? entry.event.crew_accounts?.map((a) => a.account_id);
    if (to === CREW && Array.isArray(crewIds) && !crewIds.length) {
      return showError(form, "This trip has no crew accounts to share a tip: the captain adds them to the trip.", "tip_for");
    }
    body.kind = "tip"; // a fare is the API's default: sent without `kind`
    body.tip_for = to === CREW ? CREW : [to];
  }
  const email = input("email");
  if (email.value.trim()) {
    email.value = email.value.trim();
    if (!email.checkValidity() || !EMAIL.test(email.value) || email.value.length > 254) return showError(form, "Enter an email address like name@example.com, or leave it empty.", "patron_email");
    body.patron_email = email.value;
  }
  const note = input("note").value.trim();
  if (note) body.note = note;
  const current = entry;
  const receipt = body.patron_email ? ` A receipt goes to ${body.patron_email}.` : "";
  const what = tip
    ? `a ${formatCents(cents)} tip (${body.method}) for ${tipWho()} from ${name}`
    : `${formatCents(cents)} (${body.method}) from ${name}`;
  const saveOnPhone = () => keep(current.eventId, body, current.event).then(
    () => finish(current, `Saved on this phone: ${what}. Not logged yet: it will be sent when there is signal.${receipt}`, true),
    (err) => showError(form, `This phone could not save it (${err?.message}). Try again.`));
  await submitting(form, async () => {
    if (navigator.onLine === false) return saveOnPhone();
    const res = await apiFetch(`/api/events/${encodeURIComponent(current.eventId)}/payments`, { method: "POST", body });
    // A tip leaves the balance as it was: say so only for a fare.
    const due = !tip && Number.isInteger(res.event.balance_cents)
      ? ` Balance due: ${formatCents(Math.max(res.event.balance_cents, 0))}.` : "";
    finish(current, `Logged ${what}.${due}${receipt}`);
    current.onLogged?.(res);
  }, {
    busyText: "Logging…",
    // No answer at all (no signal, a timeout, a lost reply): keep it, same payment_id.
    onError: (err) => err.status === 0 && (saveOnPhone(), true),
  });
});

$("#pay-another").addEventListener("click", () => {
  startEntry(entry.event);
  fillTipFor(entry.event);
  form.hidden = false;
  done.hidden = true;
  input("name").focus();
});
