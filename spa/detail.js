// One trip: its figures, the fares, tips and refunds (each with Void), payments saved
// on the phone and not logged yet, the waivers signed and the link patrons use to
// sign. One request to load (the last copy seen shows at once, marked "as of");
// actions update from their replies. Captains and owners log refunds here.
import { apiFetch, lastKnown, myAccount } from "./api.js";
import { cancelledBadge, eventCounts, figureList, figures, isCancelled, moneyRows, peopleLine, peopleWarnings, warningLines } from "./board.js";
import { API_BASE } from "./config.js";
import { clearErrors, closeModal, errorLine, formButtons, newId, openModal, parsePositiveDollars, sheet, showError, submitting, toast } from "./forms.js";
import { discard, dismissNote, notes, saved } from "./outbox.js";
import { openPayment } from "./payment.js";
import { $, datePart, fill, formatCents, formatDay, formatSpan, formatStamp, h, markAsOf } from "./ui.js";

const root = $("#detail");
const title = $("#detail-title");
let state = null; // {event, payments, refunds, waivers}
let kept = []; // this trip's payments saved on the phone
let receiptNotes = []; // this trip's payments sent from the phone without their receipt
let voiding = null; // {what: "payment" | "refund", item}: what the void modal is about

/** Load and show one trip. `refresh` keeps what is on screen until the new data is here. */
export async function showDetail(id, { refresh = false } = {}) {
  if (!refresh) {
    state = null;
    title.textContent = "Trip";
    root.replaceChildren(h("p", { class: "empty" }, "Loading…"));
    $("#detail-asof").hidden = true;
  }
  const all = await saved();
  kept = all.filter((p) => p.event_id === id);
  receiptNotes = (await notes()).filter((n) => n.event_id === id);
  try {
    await lastKnown(`trip:${id}`, `/api/events/${encodeURIComponent(id)}`, (data, at, offline) => {
      if (location.hash !== `#/e/${encodeURIComponent(id)}`) return; // the crew moved on
      state = data;
      render();
      markAsOf($("#detail-asof"), at, offline);
    });
  } catch (e) {
    if (e.status === 401) return;
    root.replaceChildren(h("div", { class: "problem", role: "alert" }, h("p", {}, `Could not load this trip. ${e.message}`),
      h("button", { type: "button", onclick: () => showDetail(id) }, "Try again")));
  }
}

const isCaptain = () => ["captain", "owner"].includes(myAccount()?.role);
const byTime = (list) => [...(list ?? [])].sort((a, b) => Date.parse(a.logged_at) - Date.parse(b.logged_at));
const RECEIPT = { pending: "Receipt being sent", sent: "Receipt sent", failed: "Receipt not sent" };

const waiverLink = (id) => `${API_BASE || location.origin}/g/${encodeURIComponent(id)}/waiver`;

// Captains and owners void any payment; crew only their own, for 30 minutes (as the API).
function mayVoid(p) {
  const me = myAccount();
  if (!me || me.role !== "crew") return true;
  return p.logged_by_id === me.id && Date.now() - Date.parse(p.logged_at) < 30 * 60 * 1000;
}

// A fare or a tip: a tip says who it is for and each person's share.
function ledgerRow(p) {
  const isVoid = p.status === "void";
  const tip = p.kind === "tip";
  const shares = (p.tip_shares ?? []).map((s) => `${s.name} ${formatCents(s.cents)}`).join(", ");
  return h("li", { class: [tip && "tip", isVoid && "void"].filter(Boolean).join(" "), id: `pay-${p.id}`, tabindex: "-1" },
    h("p", { class: "line" },
      h("span", { class: "amount" }, formatCents(p.amount_cents)),
      h("span", { class: "who" }, p.patron_name),
      tip && h("span", { class: "badge" }, "Tip"),
      isVoid && h("span", { class: "badge" }, "Void")),
    h("p", { class: "meta" }, [p.method, formatStamp(p.logged_at), p.logged_by && `by ${p.logged_by}`, RECEIPT[p.receipt]]
      .filter(Boolean).join(" · ")),
    tip && shares && h("p", { class: "meta" }, `For: ${shares}`),
    p.note && h("p", { class: "meta" }, `Note: ${p.note}`),
    isVoid && p.void_reason && h("p", { class: "meta" }, `Voided: ${p.void_reason}`),
    !isVoid && mayVoid(p) && h("button", { type: "button", class: "ghost small", onclick: () => openVoid("payment", p) },
      "Void", h("span", { class: "sr" }, ` ${tip ? "tip " : ""}${formatCents(p.amount_cents)} from ${p.patron_name}`)));
}

// Money handed back to a patron: captains and owners log and void these.
function refundRow(r) {
  const isVoid = r.status === "void";
  return h("li", { class: isVoid ? "refund void" : "refund", id: `refund-${r.id}`, tabindex: "-1" },
    h("p", { class: "line" },
      h("span", { class: "amount" }, formatCents(r.amount_cents)),
      h("span", { class: "who" }, r.reason),
      isVoid && h("span", { class: "badge" }, "Void")),
    h("p", { class: "meta" }, [r.method, formatStamp(r.logged_at), r.logged_by && `by ${r.logged_by}`].filter(Boolean).join(" · ")),
    isVoid && r.void_reason && h("p", { class: "meta" }, `Voided: ${r.void_reason}`),
    !isVoid && isCaptain() && h("button", { type: "button", class: "ghost small", onclick: () => openVoid("refund", r) },
      "Void", h("span", { class: "sr" }, ` refund of ${formatCents(r.amount_cents)}`)));
}

/** Tips and refunds beside the trip's figures: neither is part of Paid as shown above it. */
function moneyFigures(ev) {
  const rows = [];
  if (ev.tips_cents) rows.push(["Tips", formatCents(ev.tips_cents)]);
  if (ev.refunded_cents) rows.push(["Refunded", `${formatCents(ev.refunded_cents)} (${ev.refund_count ?? 0})`]);
  return rows.length > 0 && h("dl", { class: "figures extra", id: "detail-money" },
    rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
}

// A payment saved on the phone: waiting to send, or refused ("Not logged: why") with
// the crew's way out: fix it and send again, or discard it (after asking).
function savedRow(p) {
  const b = p.body;
  const fix = () => openPayment(state.event, { fix: p, returnTo: () => $("#detail-title") });
  const drop = () => confirm(`Discard ${formatCents(b.amount_cents)} from ${b.patron_name}? It was never logged.`) &&
    discard(p.payment_id);
  return h("li", { class: p.refused ? "refused" : "waiting" },
    h("p", { class: "line" },
      h("span", { class: "amount" }, formatCents(b.amount_cents)),
      h("span", { class: "who" }, b.patron_name),
      b.kind === "tip" && h("span", { class: "badge" }, "Tip"),
      h("span", { class: "badge" }, p.refused ? "Not logged" : "Waiting to send")),
    h("p", { class: "meta" }, p.refused ? `Not logged: ${p.refused}` : [b.method, b.note].filter(Boolean).join(" · ")),
    p.refused && h("p", { class: "actions" },
      !isCancelled(state.event) && h("button", { type: "button", class: "small", onclick: fix }, "Fix and send"),
      h("button", { type: "button", class: "ghost small", onclick: drop }, "Discard")));
}

function waiverRow(w) {
  const minors = w.minor_names;
  return h("li", { class: w.struck ? "void" : "", id: `waiver-${w.id}` },
    h("p", { class: "line" }, h("span", { class: "who" }, w.full_name),
      w.struck && h("span", { class: "badge" }, "Struck")),
    minors.length > 0 && h("p", { class: "meta" }, `With minors: ${minors.join(", ")}`),
    h("p", { class: "meta" }, `Signed ${formatStamp(w.signed_at)}`),
    w.struck
      ? h("p", { class: "meta" }, `Struck ${formatStamp(w.struck.at)} by ${w.struck.by}: ${w.struck.reason}`)
      : isCaptain() && strikeControls(w));
}

// Striking a waiver (issue 21): captains and owners, with a reason; the record stays.
function strikeControls(w) {
  const reason = h("input", { type: "text", maxlength: "300", required: true, "aria-label": `Why strike the waiver of ${w.full_name}` });
  const form = h("form", { class: "strike", hidden: true },
    h("label", {}, "Reason ", reason),
    h("button", { type: "submit", class: "danger small" }, "Strike waiver"),
    h("button", { type: "button", class: "ghost small", onclick: () => { form.hidden = true; open.hidden = false; } }, "Keep it"));
  const open = h("button", { type: "button", class: "ghost small needs-captain", onclick: () => { form.hidden = false; open.hidden = true; reason.focus(); } }, "Strike…");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) return toast("Say why this waiver is struck.");
    try {
      await apiFetch(`/api/events/${encodeURIComponent(state.event.id)}/waivers/${encodeURIComponent(w.id)}/strike`,
        { method: "POST", body: { reason: reason.value.trim() } });
      toast(`Waiver of ${w.full_name} struck.`);
      showDetail(state.event.id, { refresh: true });
    } catch (err) {
      if (err.status !== 401) toast(err.message);
    }
  });
  return h("div", { class: "actions" }, open, form);
}

async function copyLink(input) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    // No clipboard API (plain http, older phones): select the text and copy the old way.
    input.select();
    input.setSelectionRange(0, input.value.length);
    if (!document.execCommand?.("copy")) return toast("Select the link and copy it.");
  }
  toast("Waiver link copied.");
}

const HOUR = 60 * 60 * 1000;
/**
 * At the dock: from an hour before departure until the boat is back (a trip that never
 * left, until its end). Then the trip opens on the passengers; the money follows.
 */
export function atTheDock(ev, now = Date.now()) {
  if (isCancelled(ev) || ev.returned_at) return false;
  if (ev.departed_at) return true;
  return now >= Date.parse(ev.starts_at) - HOUR && now < Date.parse(ev.ends_at);
}

function render() {
  const ev = state.event;
  // Compare instants: offsets differ across a DST change, so strings can sort wrong.
  const payments = byTime(state.payments);
  const fares = payments.filter((p) => p.kind !== "tip");
  const tips = payments.filter((p) => p.kind === "tip");
  const refunds = byTime(state.refunds);
  const waivers = state.waivers;
  const link = h("input", { id: "waiver-link", readonly: true, value: waiverLink(ev.id) });
  const dockFirst = atTheDock(ev);
  // At the dock, the passengers to tap (with their own live figures) come first.
  const dock = h("section", { id: "dock", "aria-label": "At the dock" });
  const money = [
    dockFirst && h("h2", {}, "Money"),
    figureList(ev, dockFirst ? moneyRows(ev) : figures(ev)),
    !dockFirst && warningLines(peopleWarnings(eventCounts(ev))),
    moneyFigures(ev),
    h("div", { class: "actions" },
      !isCancelled(ev) && h("button", { type: "button", class: "primary", id: "detail-pay",
        onclick: () => openPayment(ev, { onLogged: () => showDetail(ev.id, { refresh: true }), returnTo: () => $("#detail-pay") }) },
      "Log Payment"),
      !isCancelled(ev) && h("a", { class: "button needs-captain", href: `#/e/${encodeURIComponent(ev.id)}/edit` }, "Edit trip"),
      !isCancelled(ev) && h("button", { type: "button", class: "danger needs-captain", id: "detail-cancel", onclick: openCancel },
        "Cancel trip"),
      ev.paid_cents > 0 && h("button", { type: "button", class: "needs-captain", id: "detail-refund", onclick: openRefund },
        "Log refund")),
    kept.length > 0 && h("h2", {}, `Saved on this phone (${kept.length})`),
    kept.length > 0 && h("ol", { class: "ledger saved" }, kept.map(savedRow)),
    receiptNotes.length > 0 && h("div", { class: "problem", id: "receipt-notes", role: "status" }, receiptNotes.map((n) =>
      h("p", {}, `${formatCents(n.body.amount_cents)} from ${n.body.patron_name}: ${n.text} `,
        h("button", { type: "button", class: "small", onclick: () => dismissNote(n.payment_id) }, "OK")))),
    h("h2", {}, `Payments (${fares.length})`),
    fares.length ? h("ol", { class: "ledger", id: "fares" }, fares.map(ledgerRow)) : h("p", { class: "empty" }, "No payments yet."),
    tips.length > 0 && h("h2", {}, `Tips (${tips.length})`),
    tips.length > 0 && h("ol", { class: "ledger", id: "tips" }, tips.map(ledgerRow)),
    refunds.length > 0 && h("h2", {}, `Refunds (${refunds.length})`),
    refunds.length > 0 && h("ol", { class: "ledger", id: "refunds" }, refunds.map(refundRow)),
  ];
  // The waivers signed name the same people as the passengers: below them, never above.
  const signed = [
    h("h2", {}, `Waivers (${ev.waiver_count} covered)`),
    h("label", { for: "waiver-link" }, "Waiver link for patrons"),
    h("div", { class: "copy" }, link, h("button", { type: "button", onclick: () => copyLink(link) }, "Copy link")),
    waivers.length ? h("ul", { class: "ledger", id: "waivers" }, waivers.map(waiverRow)) : h("p", { class: "empty" }, "No waivers signed yet."),
  ];
  title.textContent = ev.title;
  fill(root,
    h("p", { class: "when" }, `${formatDay(datePart(ev.starts_at))}, ${formatSpan(ev.starts_at, ev.ends_at)}`,
      isCancelled(ev) && cancelledBadge()),
    peopleLine(ev) && h("p", { class: "meta" }, peopleLine(ev)),
    dockFirst ? [dock, ev.notes && h("p", { class: "notes" }, ev.notes), money, signed]
      : [ev.notes && h("p", { class: "notes" }, ev.notes), money, dock, signed],
  );
  // At the dock (passengers, depart, return, print, QR): its own module, loaded on demand.
  import("./manifest.js").then((m) => m.showDock($("#dock"), ev));
}

// ---- void a payment or a refund: a reason, then the confirm button in the same dialog ----

let voidModal = null;
function buildVoidModal() {
  const form = h("form", { id: "void-form", novalidate: true },
    h("label", { for: "void-reason" }, "Reason"),
    h("input", { id: "void-reason", "data-field": "reason", autocomplete: "off", required: true, maxlength: "500" }),
    h("p", { class: "hint" }),
    errorLine(),
    formButtons(h("button", { type: "submit", class: "danger", id: "void-submit" }, "Void payment"), "Keep it"));
  form.addEventListener("submit", sendVoid);
  return sheet("void", "Void payment?", h("p", { id: "void-what", class: "sub" }), form);
}

function openVoid(what, item) {
  voiding = { what, item };
  voidModal ??= buildVoidModal();
  const form = $("#void-form");
  form.reset();
  clearErrors(form);
  const refund = what === "refund";
  $("#void-title").textContent = refund ? "Void refund?" : "Void payment?";
  $("#void-submit").textContent = refund ? "Void refund" : "Void payment";
  $("#void-form .hint").textContent = refund
    ? "The refund stays in the list, struck through; the paid total goes back up."
    : "The payment stays in the ledger, struck through; the totals drop.";
  $("#void-what").textContent = refund
    ? `Refund of ${formatCents(item.amount_cents)} ${item.method} (${item.reason}), logged ${formatStamp(item.logged_at)}.`
    : `${formatCents(item.amount_cents)} ${item.method} from ${item.patron_name}, logged ${formatStamp(item.logged_at)}.`;
  const row = () => $(`#${refund ? "refund" : "pay"}-${CSS.escape(item.id)}`);
  openModal(voidModal, { focus: $("#void-reason"), returnTo: row });
}

function sendVoid(e) {
  e.preventDefault();
  const form = e.currentTarget;
  if (!voiding) return;
  clearErrors(form);
  const { what, item } = voiding;
  const reason = $("#void-reason").value.trim();
  if (!reason) return showError(form, `Say why this ${what} is void.`, "reason");
  const list = what === "refund" ? "refunds" : "payments";
  submitting(form, async () => {
    const res = await apiFetch(`/api/events/${encodeURIComponent(item.event_id)}/${list}/${encodeURIComponent(item.id)}/void`,
      { method: "POST", body: { reason } });
    const fresh = res[what === "refund" ? "refund" : "payment"];
    state[list] = (state[list] ?? []).map((x) => (x.id === item.id ? fresh : x));
    state.event = res.event;
    render();
    closeModal(voidModal);
    toast(what === "refund" ? `Voided the refund of ${formatCents(item.amount_cents)}.` : `Voided ${formatCents(item.amount_cents)} from ${item.patron_name}.`);
  });
}

// ---- log a refund (captains and owners): money handed back to a patron ----
// Each entry has one refund_id (the API's idempotency key), kept for every retry of it.

let refunding = null; // {eventId, refundId, done}
let refundModal = null;

function buildRefundModal() {
  const methods = [...$("#pay-method").options].map((o) => h("option", { value: o.value }, o.textContent));
  const form = h("form", { id: "refund-form", novalidate: true },
    h("label", { for: "refund-amount" }, "Amount ($)"),
    h("input", { id: "refund-amount", "data-field": "amount_cents", inputmode: "decimal", autocomplete: "off", required: true, maxlength: "16", placeholder: "0.00" }),
    h("label", { for: "refund-method" }, "Paid back by"),
    h("select", { id: "refund-method", "data-field": "method" }, methods),
    h("label", { for: "refund-reason" }, "Reason"),
    h("input", { id: "refund-reason", "data-field": "reason", autocomplete: "off", required: true, maxlength: "500" }),
    h("p", { class: "hint" }, "The paid total drops by the refund; the payments stay as they are."),
    errorLine(),
    formButtons(h("button", { type: "submit", class: "primary", id: "refund-submit" }, "Log refund")));
  form.addEventListener("submit", sendRefund);
  return sheet("refund", "Log refund", h("p", { id: "refund-what", class: "sub" }), form);
}

function openRefund() {
  const ev = state.event;
  refundModal ??= buildRefundModal();
  // A draft for the same trip (after an error) keeps its id and what was typed.
  if (!refunding || refunding.eventId !== ev.id || refunding.done) {
    $("#refund-form").reset();
    clearErrors($("#refund-form"));
    refunding = { eventId: ev.id, refundId: newId(), done: false };
  }
  $("#refund-what").textContent = `${ev.title} · paid ${formatCents(ev.paid_cents)}`;
  openModal(refundModal, { focus: $("#refund-amount"), returnTo: () => $("#detail-refund") ?? $("#detail-title") });
}

function sendRefund(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const current = refunding;
  if (!current || current.done) return;
  clearErrors(form);
  let cents;
  try {
    cents = parsePositiveDollars($("#refund-amount").value);
  } catch (err) {
    return showError(form, err.message, "amount_cents");
  }
  const reason = $("#refund-reason").value.trim();
  if (!reason) return showError(form, "Say why the money goes back.", "reason");
  const body = { refund_id: current.refundId, amount_cents: cents, method: $("#refund-method").value, reason };
  submitting(form, async () => {
    const res = await apiFetch(`/api/events/${encodeURIComponent(current.eventId)}/refunds`, { method: "POST", body });
    current.done = true;
    if (state?.event.id === current.eventId) {
      state.refunds = [...(state.refunds ?? []).filter((r) => r.id !== res.refund.id), res.refund];
      state.event = res.event;
      render();
    }
    closeModal(refundModal);
    toast(`Refund of ${formatCents(cents)} logged.`);
  }, { busyText: "Logging…" });
}

// ---- cancel the trip, after a confirm dialog ----

let cancelModal = null;
function buildCancelModal() {
  const form = h("form", { id: "cancel-form", novalidate: true },
    h("p", { class: "hint" }, "Crew and patrons will see it as cancelled. Payments stay in the ledger: void them if you refund."),
    errorLine(),
    formButtons(h("button", { type: "submit", class: "danger", id: "cancel-submit" }, "Cancel trip"), "Keep trip"));
  form.addEventListener("submit", sendCancel);
  return sheet("cancel", "Cancel this trip?", h("p", { id: "cancel-what", class: "sub" }), form);
}

function openCancel() {
  const ev = state.event;
  cancelModal ??= buildCancelModal();
  const form = $("#cancel-form");
  clearErrors(form);
  $("#cancel-what").textContent = `${ev.title} · ${formatDay(datePart(ev.starts_at))}, ${formatSpan(ev.starts_at, ev.ends_at)}`;
  openModal(cancelModal, { focus: $("#cancel-modal [data-close]"), returnTo: () => $("#detail-title") });
}

function sendCancel(e) {
  e.preventDefault();
  const form = e.currentTarget;
  if (!state) return;
  clearErrors(form);
  submitting(form, async () => {
    const res = await apiFetch(`/api/events/${encodeURIComponent(state.event.id)}/cancel`, { method: "POST", body: {} });
    state.event = res.event;
    render();
    closeModal(cancelModal);
    toast("Trip cancelled.");
  });
}
