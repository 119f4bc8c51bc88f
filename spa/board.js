// The week board: today and the next six days, one card per trip, one API request.
// The last copy seen is kept on the phone and shown at once, marked "as of"; payments
// saved on the phone show on their trip's card until they are sent.
import { lastKnown } from "./api.js";
import { API_BASE, OPERATOR_TZ } from "./config.js";
import { $, addDays, datePart, fill, formatCents, formatDay, formatSpan, h, markAsOf, todayIn } from "./ui.js";

let loadSeq = 0;
let shownFrom = null;
let kept = []; // payments saved on the phone (outbox.js), as app.js last heard

export const isCancelled = (ev) => ev.status === "cancelled";

/** A trip's passenger counts as the card knows them (the dock has fresher ones). */
export function eventCounts(ev) {
  return {
    capacity: ev.capacity, signed: ev.waiver_count ?? 0, boarded: ev.boarded_count ?? 0,
    // The boat's legal limit; a boat not of the fleet is held to the trip's capacity.
    limit: ev.boat_limit ?? ev.capacity, fleet: Number.isInteger(ev.boat_limit), departed: Boolean(ev.departed_at),
  };
}

/**
 * The passenger figures, one per line and each named: booked (the capacity), signed
 * (people a waiver covers), aboard and the legal limit, as [label, value, tone] rows.
 * `aboard`: show Aboard even before anyone is (at the dock).
 */
export function peopleRows(c, { aboard = c.boarded > 0 || c.departed } = {}) {
  const rows = [["Booked", String(c.capacity), ""], ["Signed", String(c.signed), c.signed >= c.capacity ? "ok" : ""]];
  if (aboard) rows.push(["Aboard", String(c.boarded), c.boarded > c.limit ? "due" : ""]);
  if (c.fleet || aboard) rows.push(["Legal limit", [String(c.limit), !c.fleet && h("small", {}, " (the capacity)")], ""]);
  return rows;
}

/** Where the passenger figures disagree, in words (none: an empty list). */
export function peopleWarnings(c) {
  const out = [];
  if (c.boarded > c.limit) out.push(`${c.boarded - c.limit} aboard over the legal limit of ${c.limit}.`);
  if (c.signed > c.limit) out.push(`More signed (${c.signed}) than the legal limit (${c.limit}): at most ${c.limit} may go.`);
  else if (c.signed > c.capacity) out.push(`More signed (${c.signed}) than booked (${c.capacity}).`);
  if (c.capacity > c.limit) out.push(`Booked (${c.capacity}) is above the legal limit (${c.limit}).`);
  if (c.departed && c.boarded < c.signed) out.push(`${c.signed - c.boarded} signed but not aboard.`);
  return out;
}

/** The money figures: paid of the price, and the balance, as [label, value, tone] rows. */
export function moneyRows(ev) {
  const paid = [formatCents(ev.paid_cents)];
  if (Number.isInteger(ev.price_cents)) paid.push(" ", h("small", {}, `of ${formatCents(ev.price_cents)}`));
  let balance = ["Balance", "No price set", ""];
  if (Number.isInteger(ev.balance_cents)) {
    if (ev.balance_cents > 0) balance = ["Due", formatCents(ev.balance_cents), "due"];
    else if (ev.balance_cents < 0) balance = ["Overpaid", formatCents(-ev.balance_cents), "due"];
    else balance = ["Balance", "Paid in full", "ok"];
  }
  return [["Paid", paid, ""], balance];
}

/** The figures crew look for first, as [label, value, tone] rows. */
export const figures = (ev) => [...peopleRows(eventCounts(ev)), ...moneyRows(ev)];

/** Departed, returned or overdue (red), as a badge on the card. */
export function voyageBadge(ev) {
  if (ev.overdue) return h("span", { class: "badge" }, "Overdue");
  if (ev.returned_at) return h("span", { class: "badge ok" }, "Returned");
  if (ev.departed_at) return h("span", { class: "badge ok" }, "Departed");
  return null;
}

/** Rows as a list of figures (a trip's, or `rows` given). */
export function figureList(ev, rows = figures(ev), attrs = {}) {
  return h("dl", { class: "figures", ...attrs },
    rows.map(([k, v, tone]) => h("div", { class: tone || null }, h("dt", {}, k), h("dd", {}, v))));
}

/** The warnings of peopleWarnings() as lines, or null when the figures agree. */
export function warningLines(list, attrs = {}) {
  return list.length > 0 && h("div", { class: "warnings", ...attrs }, list.map((w) => h("p", { class: "warn" }, w)));
}

export function peopleLine(ev) {
  const bits = [];
  if (ev.boat) bits.push(ev.boat);
  if (ev.captain) bits.push(`Capt. ${ev.captain}`);
  // One crew list: the trip's crew accounts (who share a tip for the crew) when it has
  // any; a trip staffed before accounts shows the names typed on it.
  const crew = ev.crew_accounts?.length ? ev.crew_accounts.map((a) => a.name) : ev.crew ?? [];
  if (crew.length) bits.push(`Crew: ${crew.join(", ")}`);
  return bits.join(" · ");
}

export const cancelledBadge = () => h("span", { class: "badge" }, "Cancelled");

/** "Waiting to send: $45.00 (3)" and "1 not logged" for a trip's payments saved on the phone. */
export function savedLine(eventId, list = kept) {
  const mine = list.filter((p) => p.event_id === eventId);
  const waiting = mine.filter((p) => !p.refused);
  const refused = mine.length - waiting.length;
  const sum = waiting.reduce((n, p) => n + p.body.amount_cents, 0);
  return mine.length > 0 && h("p", { class: "saved" },
    waiting.length > 0 && `Waiting to send: ${formatCents(sum)} (${waiting.length})`,
    waiting.length > 0 && refused > 0 && " · ",
    refused > 0 && h("strong", {}, `${refused} not logged`));
}

function fillCard(el, ev) {
  const id = ev.id;
  el.className = isCancelled(ev) ? "card cancelled" : ev.overdue ? "card overdue" : "card";
  fill(el,
    h("p", { class: "when" }, formatSpan(ev.starts_at, ev.ends_at), isCancelled(ev) && cancelledBadge(), voyageBadge(ev)),
    h("h3", {}, h("a", { href: `#/e/${encodeURIComponent(id)}`, id: `t-${id}` }, ev.title)),
    peopleLine(ev) && h("p", { class: "meta" }, peopleLine(ev)),
    figureList(ev),
    warningLines(peopleWarnings(eventCounts(ev))),
    savedLine(id),
    !isCancelled(ev) && h("button", {
      type: "button", class: "primary pay", "data-pay": id, "aria-describedby": `t-${id}`,
      onclick: () => import("./payment.js").then((m) => m.openPayment(ev, {
        onLogged: (res) => updateCard(res.event),
        returnTo: () => $(`[data-pay="${CSS.escape(id)}"]`),
      })),
    }, "Log Payment"),
  );
}

function card(ev) {
  const el = h("article", { "data-id": ev.id, "aria-labelledby": `t-${ev.id}` });
  fillCard(el, ev);
  // The whole card opens the trip (a thumb rarely hits the title); buttons keep their job.
  el.addEventListener("click", (e) => {
    if (!e.target.closest("a,button")) location.hash = `#/e/${encodeURIComponent(el.dataset.id)}`;
  });
  return el;
}

/** Payments saved on the phone changed: redraw each card's "Waiting to send" line. */
export function showSaved(list) {
  kept = list;
  for (const el of document.querySelectorAll("#board .card")) {
    el.querySelector(".saved")?.remove();
    const line = savedLine(el.dataset.id);
    if (line) el.querySelector(".figures").after(line);
  }
}

/** Redraw one card from a fresh event (after a payment), without reloading the board. */
export function updateCard(ev) {
  const el = document.querySelector(`.card[data-id="${CSS.escape(ev.id)}"]`);
  if (el) fillCard(el, ev);
}

// The board asks for `view=board`: each trip as its card shows it, a null, false or
// empty list left out (docs/api.md, "The board's card"). The card, and the Log Payment
// modal it opens, read it as an event with those put back.
const BLANK = { boat: null, captain: null, crew: [], capacity: null, price_cents: null, balance_cents: null,
  boat_limit: null, boarded_count: 0, departed_at: null, returned_at: null, overdue: false, crew_accounts: [] };
const asEvent = (card) => ({ ...BLANK, ...card });

function render(from, events) {
  events = events.map(asEvent);
  const today = todayIn(OPERATOR_TZ);
  const byDay = new Map();
  for (let i = 0; i < 7; i++) byDay.set(addDays(from, i), []);
  for (const ev of events) {
    const day = datePart(ev.starts_at);
    if (!byDay.has(day)) byDay.set(day, []); // never hide a trip the API returned
    byDay.get(day).push(ev);
  }
  const days = [...byDay.keys()].sort();
  $("#board").replaceChildren(...days.map((day) => {
    const trips = byDay.get(day).sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
    const rel = day === today ? "Today · " : day === addDays(today, 1) ? "Tomorrow · " : "";
    return h("section", { class: "day", "aria-label": `${rel}${formatDay(day)}` },
      h("h2", {}, rel, formatDay(day)),
      trips.length ? trips.map(card) : h("p", { class: "empty" }, "No trips"));
  }));
}

let keptFor = null;
/** Keep today's manifests on the phone (the dock without signal), once the board is up. */
function keepToday(events) {
  const today = todayIn(OPERATOR_TZ);
  // Not one that is over: cancelled, back at the dock, or ended and never departed.
  const ahead = (ev) => !isCancelled(ev) && !ev.returned_at && (ev.departed_at || Date.parse(ev.ends_at) > Date.now());
  const ids = events.filter((ev) => datePart(ev.starts_at) === today && ahead(ev)).map((ev) => ev.id);
  const key = `${today}:${ids.join()}`;
  if (!ids.length || keptFor === key) return;
  keptFor = key;
  setTimeout(() => import("./outbox.js").then((o) => o.keepManifests(ids)), 1500);
}

/** Load and draw the week starting `from` (default: today in the operator's zone). */
export async function loadBoard(from, { refresh = false } = {}) {
  const today = todayIn(OPERATOR_TZ);
  from = from || today;
  const to = addDays(from, 6);
  const board = $("#board");
  const seq = ++loadSeq;
  shownFrom = from;
  $("#week-label").textContent = `${formatDay(from)} – ${formatDay(to)}`;
  board.setAttribute("aria-busy", "true");
  if (!refresh) {
    board.replaceChildren(h("p", { class: "empty" }, "Loading trips…"));
    $("#board-asof").hidden = true;
  }
  // index.html's first script may have asked for this week already (same origin only):
  // {from: "" for today's, else the week's first day, req: the fetch}.
  const early = window.sccBoard;
  window.sccBoard = null;
  const started = early && !API_BASE && (early.from ? early.from === from : from === today) ? early.req : null;
  try {
    await lastKnown(`board:${from}`, `/api/events?view=board&from=${from}&to=${to}`, (data, at, offline) => {
      if (seq !== loadSeq) return;
      render(from, data.events);
      markAsOf($("#board-asof"), at, offline);
      if (!at) keepToday(data.events);
    }, started);
  } catch (e) {
    if (seq !== loadSeq || e.status === 401) return;
    board.replaceChildren(h("div", { class: "problem", role: "alert" },
      h("p", {}, `Could not load trips. ${e.message}`),
      h("button", { type: "button", onclick: () => loadBoard(from) }, "Try again")));
  } finally {
    if (seq === loadSeq) board.removeAttribute("aria-busy");
  }
}

/** The first day of the week on show, for the prev/next buttons. */
export const boardFrom = () => shownFrom || todayIn(OPERATOR_TZ);
