// One trip: its figures, the payments ledger (with Void), payments saved on the phone
// and not logged yet, the waivers signed and the link patrons use to sign. One request
// to load (the last copy seen shows at once, marked "as of"); actions update from
// their replies.
import { apiFetch, lastKnown, myAccount } from "./api.js";
import { cancelledBadge, figureList, isCancelled, peopleLine } from "./board.js";
import { API_BASE } from "./config.js";
import { discard, saved } from "./outbox.js";
import { openPayment } from "./payment.js";
import { $, clearErrors, closeModal, datePart, fill, formatCents, formatDay, formatSpan, formatStamp, h, markAsOf, openModal, showError, submitting, toast } from "./ui.js";

const root = $("#detail");
const title = $("#detail-title");
let state = null; // {event, payments, waivers}
let kept = []; // this trip's payments saved on the phone
let voiding = null; // the payment the void modal is about

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

const waiverLink = (id) => `${API_BASE || location.origin}/g/${encodeURIComponent(id)}/waiver`;

// Captains and owners void any payment; crew only their own, for 30 minutes (as the API).
function mayVoid(p) {
  const me = myAccount();
  if (!me || me.role !== "crew") return true;
  return p.logged_by_id === me.id && Date.now() - Date.parse(p.logged_at) < 30 * 60 * 1000;
}

function ledgerRow(p) {
  const isVoid = p.status === "void";
  return h("li", { class: isVoid ? "void" : "", id: `pay-${p.id}`, tabindex: "-1" },
    h("p", { class: "line" },
      h("span", { class: "amount" }, formatCents(p.amount_cents)),
      h("span", { class: "who" }, p.patron_name),
      isVoid && h("span", { class: "badge" }, "Void")),
    h("p", { class: "meta" }, [p.method, formatStamp(p.logged_at), p.logged_by && `by ${p.logged_by}`]
      .filter(Boolean).join(" · ")),
    p.note && h("p", { class: "meta" }, `Note: ${p.note}`),
    isVoid && p.void_reason && h("p", { class: "meta" }, `Voided: ${p.void_reason}`),
    !isVoid && mayVoid(p) && h("button", { type: "button", class: "ghost small", onclick: () => openVoid(p) },
      "Void", h("span", { class: "sr" }, ` ${formatCents(p.amount_cents)} from ${p.patron_name}`)));
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
      h("span", { class: "badge" }, p.refused ? "Not logged" : "Waiting to send")),
    h("p", { class: "meta" }, p.refused ? `Not logged: ${p.refused}` : [b.method, b.note].filter(Boolean).join(" · ")),
    p.refused && h("p", { class: "actions" },
      !isCancelled(state.event) && h("button", { type: "button", class: "small", onclick: fix }, "Fix and send"),
      h("button", { type: "button", class: "ghost small", onclick: drop }, "Discard")));
}

function waiverRow(w) {
  const minors = w.minor_names;
  return h("li", {},
    h("p", { class: "line" }, h("span", { class: "who" }, w.full_name)),
    minors.length > 0 && h("p", { class: "meta" }, `With minors: ${minors.join(", ")}`),
    h("p", { class: "meta" }, `Signed ${formatStamp(w.signed_at)}`));
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

function render() {
  const ev = state.event;
  // Compare instants: offsets differ across a DST change, so strings can sort wrong.
  const payments = [...state.payments].sort((a, b) => Date.parse(a.logged_at) - Date.parse(b.logged_at));
  const waivers = state.waivers;
  const link = h("input", { id: "waiver-link", readonly: true, value: waiverLink(ev.id) });
  title.textContent = ev.title;
  fill(root,
    h("p", { class: "when" }, `${formatDay(datePart(ev.starts_at))}, ${formatSpan(ev.starts_at, ev.ends_at)}`,
      isCancelled(ev) && cancelledBadge()),
    peopleLine(ev) && h("p", { class: "meta" }, peopleLine(ev)),
    ev.notes && h("p", { class: "notes" }, ev.notes),
    figureList(ev),
    h("div", { class: "actions" },
      !isCancelled(ev) && h("button", { type: "button", class: "primary", id: "detail-pay",
        onclick: () => openPayment(ev, { onLogged: () => showDetail(ev.id, { refresh: true }), returnTo: () => $("#detail-pay") }) },
      "Log Payment"),
      !isCancelled(ev) && h("a", { class: "button needs-captain", href: `#/e/${encodeURIComponent(ev.id)}/edit` }, "Edit trip"),
      !isCancelled(ev) && h("button", { type: "button", class: "danger needs-captain", id: "detail-cancel", onclick: openCancel },
        "Cancel trip")),
    kept.length > 0 && h("h2", {}, `Saved on this phone (${kept.length})`),
    kept.length > 0 && h("ol", { class: "ledger saved" }, kept.map(savedRow)),
    h("h2", {}, `Payments (${payments.length})`),
    payments.length ? h("ol", { class: "ledger" }, payments.map(ledgerRow)) : h("p", { class: "empty" }, "No payments yet."),
    h("h2", {}, `Waivers (${ev.waiver_count} covered)`),
    h("label", { for: "waiver-link" }, "Waiver link for patrons"),
    h("div", { class: "copy" }, link, h("button", { type: "button", onclick: () => copyLink(link) }, "Copy link")),
    waivers.length ? h("ul", { class: "ledger" }, waivers.map(waiverRow)) : h("p", { class: "empty" }, "No waivers signed yet."),
    h("section", { id: "dock", "aria-label": "At the dock" }),
  );
  // At the dock (passengers, depart, return, print, QR): its own module, loaded on demand.
  import("./manifest.js").then((m) => m.showDock($("#dock"), ev));
}

// ---- void a payment: a reason, then the confirm button in the same dialog ----

function openVoid(p) {
  voiding = p;
  const form = $("#void-form");
  form.reset();
  clearErrors(form);
  $("#void-what").textContent = `${formatCents(p.amount_cents)} ${p.method} from ${p.patron_name}, logged ${formatStamp(p.logged_at)}.`;
  openModal($("#void-modal"), { focus: $("#void-reason"), returnTo: () => $(`#pay-${CSS.escape(p.id)}`) });
}

$("#void-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  if (!voiding) return;
  clearErrors(form);
  const reason = $("#void-reason").value.trim();
  if (!reason) return showError(form, "Say why this payment is void.", "reason");
  const p = voiding;
  submitting(form, async () => {
    const res = await apiFetch(`/api/events/${encodeURIComponent(p.event_id)}/payments/${encodeURIComponent(p.id)}/void`,
      { method: "POST", body: { reason } });
    state.payments = state.payments.map((x) => (x.id === p.id ? res.payment : x));
    state.event = res.event;
    render();
    closeModal($("#void-modal"));
    toast(`Voided ${formatCents(p.amount_cents)} from ${p.patron_name}.`);
  });
});

// ---- cancel the trip, after a confirm dialog ----

function openCancel() {
  const ev = state.event;
  const form = $("#cancel-form");
  clearErrors(form);
  $("#cancel-what").textContent = `${ev.title} · ${formatDay(datePart(ev.starts_at))}, ${formatSpan(ev.starts_at, ev.ends_at)}`;
  openModal($("#cancel-modal"), { focus: $("#cancel-modal [data-close]"), returnTo: () => $("#detail-title") });
}

$("#cancel-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  if (!state) return;
  clearErrors(form);
  submitting(form, async () => {
    const res = await apiFetch(`/api/events/${encodeURIComponent(state.event.id)}/cancel`, { method: "POST", body: {} });
    state.event = res.event;
    render();
    closeModal($("#cancel-modal"));
    toast("Trip cancelled.");
  });
});
