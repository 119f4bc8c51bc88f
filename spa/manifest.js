// At the dock (loaded with import() when a trip opens, so the board's first load does
// not carry it): who is aboard, one tap each; Depart with the headcount and who has
// no waiver yet; Return; the printed manifest; the QR code and Share for the waiver link.
// Without signal the manifest kept on the phone is shown (today's trips are kept when
// the board loads), taps are queued with their mark_id (outbox.js) and shown as
// waiting, and the limit is checked here against the kept list (the API checks again
// when they are sent). Depart needs signal: the manifest email goes from the server.
import { apiFetch, lastKnown } from "./api.js";
import { figureList, peopleRows, peopleWarnings, warningLines } from "./board.js";
import { newId, toast, useStyles } from "./forms.js";
import { $, datePart, formatDay, formatSpan, formatStamp, h } from "./ui.js";

let root = null;
let server = null; // the manifest as the server (or the phone's copy of it) last said
let state = null; // what is shown: `server` with the marks waiting on the phone applied
let waiting = []; // this trip's marks not sent yet (outbox.js), in tap order
let offline = false; // the manifest shown is the phone's copy: no signal
let confirming = false;
let busy = false;
let changes = 0; // bumped by each boarding, depart or return: a load begun before must not undo it

const path = (id, tail = "") => `/api/events/${encodeURIComponent(id)}${tail}`;
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

const outbox = () => import("./outbox.js");

/** Show the dock panel for trip `ev` inside `into`. */
export async function showDock(into, ev) {
  useStyles("dock.css");
  root = into;
  if (state?.trip?.id === ev.id) {
    render(); // the trip redrawn (a payment, a void): keep the list while it reloads
  } else {
    server = state = null;
    waiting = [];
    confirming = false;
    root.replaceChildren(h("h2", {}, "Passengers"), h("p", { class: "empty" }, "Loading passengers…"));
  }
  const seen = changes;
  try {
    let seq = 0;
    let drawn = 0;
    await lastKnown(`manifest:${ev.id}`, path(ev.id, "/manifest"), async (data, at, noSignal) => {
      const mine = ++seq;
      const marks = await (await outbox()).queuedMarks(ev.id);
      // A newer copy is drawn already, or a tap, Depart or Return since outdates this one.
      if (root !== into || !into.isConnected || mine < drawn || seen !== changes) return;
      drawn = mine;
      server = data;
      waiting = marks;
      offline = Boolean(noSignal);
      state = withWaiting(server, waiting);
      render();
    });
  } catch (e) {
    if (e.status === 401 || root !== into) return;
    root.replaceChildren(h("h2", {}, "Passengers"), h("div", { class: "problem", role: "alert" },
      h("p", {}, `Could not load the passengers. ${e.message}`),
      h("button", { type: "button", onclick: () => showDock(into, ev) }, "Try again")));
  }
}

// A person is their waiver and their id within it (`person`); a mark queued by an older
// page has only the name, matched as the API does (case and spacing aside).
const nameKey = (name) => name.split(/\s+/).filter(Boolean).join(" ").toLowerCase();
const samePerson = (p, body) => p.waiver_id === body.waiver_id
  && (body.person === undefined ? nameKey(p.name) === nameKey(body.name) : p.person === body.person);

/** The manifest with the marks waiting on the phone applied (a refused one is not). */
function withWaiting(data, marks) {
  const passengers = data.passengers.map((p) => {
    const mine = marks.filter((m) => samePerson(p, m.body));
    const last = mine.filter((m) => !m.refused).at(-1);
    const refused = mine.filter((m) => m.refused);
    return { ...p, boarded: last ? last.body.boarded : p.boarded, waiting: Boolean(last), refused };
  });
  const boarded = passengers.filter((p) => p.boarded).length;
  return { ...data, passengers, counts: { ...data.counts, boarded } };
}

/** One passenger figure per line (booked, signed, aboard, legal limit), then where they disagree. */
function countsLine() {
  const { boarded, limit, capacity, signed } = state.counts;
  const c = { capacity, signed, boarded, limit, fleet: Boolean(state.boat), departed: Boolean(state.trip.departed_at) };
  return [
    figureList(null, peopleRows(c, { aboard: true }), { id: "dock-counts", class: boarded > limit ? "counts over" : "counts", "aria-live": "polite" }),
    warningLines(peopleWarnings(c), { id: "dock-warnings" }),
  ];
}

/** The taps kept on this phone, not sent yet. */
function pendingLine() {
  return pending() > 0 && h("p", { id: "dock-pending", class: "meta", role: "status" }, `${plural(pending(), "tap", "taps")} waiting to send`);
}

/** Marks on the phone the server has not got yet. */
const pending = () => waiting.filter((m) => !m.refused).length;

/** Taps the server refused when they were sent (over the limit, departed meanwhile). */
function refusedLine() {
  const refused = waiting.filter((m) => m.refused);
  return refused.length > 0 && h("div", { class: "problem", id: "dock-refused", role: "alert" },
    refused.map((m) => h("p", {}, `Not ${m.body.boarded ? "boarded" : "put ashore"}: ${m.body.name}. ${m.refused} `,
      h("button", { type: "button", class: "small", onclick: () => outbox().then((o) => o.discardMark(m.mark_id)) }, "OK"))));
}

/** How many booked places have no waiver yet (capacity minus people signed). */
function unsigned() {
  const { capacity, signed } = state.counts;
  return Number.isInteger(capacity) ? Math.max(0, capacity - signed) : 0;
}

function passengerRow(p) {
  const trip = state.trip;
  const locked = Boolean(trip.departed_at) || trip.status === "cancelled";
  return h("li", { class: [p.boarded && "aboard", p.waiting && "waiting"].filter(Boolean).join(" ") },
    h("button", {
      type: "button", class: "person", "aria-pressed": p.boarded ? "true" : "false", disabled: locked || busy,
      "data-waiver": p.waiver_id, "data-person": String(p.person), onclick: () => toggle(p),
    },
    h("span", { class: "tick", "aria-hidden": "true" }, p.boarded ? "✓" : ""),
    h("span", { class: "name" }, p.name, p.minor && h("small", {}, " (minor)")),
    h("span", { class: "state" }, p.boarded ? "Aboard" : "Ashore", p.waiting && h("small", { class: "waiting" }, " · waiting to send"))));
}

// Where the manifest email to the shore stands (the departure's notification).
const MANIFEST_EMAIL = { pending: "Manifest email queued", sent: "Manifest emailed ashore", failed: "Manifest email failed" };

function voyageLine() {
  const t = state.trip;
  const bits = [];
  if (t.departed_at) bits.push(`Departed ${formatStamp(t.departed_at)}${t.departed_by ? ` by ${t.departed_by}` : ""}, ${plural(t.departed_headcount ?? 0, "person", "people")} aboard`);
  if (t.returned_at) bits.push(`Returned ${formatStamp(t.returned_at)}`);
  const sent = state.departure?.notification;
  if (t.departed_at && sent) bits.push(MANIFEST_EMAIL[sent] ?? MANIFEST_EMAIL.pending);
  if (!bits.length) return null;
  return h("p", { class: t.overdue ? "dock-status overdue" : "dock-status", id: "dock-status" },
    t.overdue && h("strong", {}, "OVERDUE · "), bits.join(" · "));
}

function departPanel() {
  const { boarded, limit } = state.counts;
  const ashore = state.passengers.filter((p) => !p.boarded).map((p) => p.name);
  const missing = unsigned();
  return h("div", { class: "depart-check", id: "depart-check", role: "group", "aria-labelledby": "depart-head" },
    h("p", { id: "depart-head", class: boarded > limit ? "dock-counts over" : "dock-counts" },
      `Depart with ${plural(boarded, "person", "people")} aboard (${limit} allowed)?`),
    missing > 0 && h("p", { class: "warn", id: "depart-unsigned" }, `${plural(missing, "booked place has", "booked places have")} no waiver yet.`),
    ashore.length > 0 && h("p", { class: "meta", id: "depart-ashore" }, `Signed but not aboard: ${ashore.join(", ")}`),
    h("p", { class: "meta" }, "The manifest is emailed to the shore contacts."),
    h("div", { class: "buttons" },
      h("button", { type: "button", class: "ghost", onclick: () => { confirming = false; render(); } }, "Not yet"),
      h("button", { type: "button", class: "primary", id: "depart-confirm", disabled: busy || boarded > limit, onclick: depart }, "Confirm departure")));
}

function render() {
  if (!root || !state) return;
  const t = state.trip;
  const open = t.status !== "cancelled";
  const people = state.passengers;
  const missing = unsigned();
  // replaceChildren would print a null as "null": leave out what is not shown.
  root.replaceChildren(...[
    h("h2", {}, "Passengers"),
    ...countsLine(),
    pendingLine(),
    offline && h("p", { class: "meta", id: "dock-asof" }, "No signal: the list as last seen on this phone. Taps are kept and sent when there is signal."),
    refusedLine(),
    missing > 0 && !t.departed_at && h("p", { class: "warn" }, `${plural(missing, "booked place has", "booked places have")} no waiver yet.`),
    voyageLine(),
    people.length
      ? h("ul", { class: "passengers", "aria-label": "Passengers: tap to mark aboard or ashore" }, people.map(passengerRow))
      : h("p", { class: "empty" }, "Nobody has signed a waiver yet: share the link or show the QR code."),
    confirming && !t.departed_at ? departPanel() : null,
    h("div", { class: "actions" },
      open && !t.departed_at && !confirming && departButton(),
      t.departed_at && !t.returned_at && h("button", { type: "button", class: "primary", id: "dock-return", onclick: comeBack }, "Return"),
      h("button", { type: "button", id: "dock-print", onclick: printManifest }, "Print manifest")),
    open && h("div", { class: "actions" },
      h("button", { type: "button", id: "dock-qr", onclick: () => import("./qr.js").then((m) => m.showQr(t)) }, "QR code for patrons"),
      h("button", { type: "button", id: "dock-share", onclick: () => import("./qr.js").then((m) => m.shareLink(t, $("#dock-share-fallback"))) }, "Share waiver link")),
    h("div", { id: "dock-share-fallback" }),
  ].filter(Boolean));
}

// Depart sends the manifest email from the server, with the list the server has: it
// needs signal, and the taps waiting on the phone go first.
function departButton() {
  const noSignal = offline || navigator.onLine === false;
  const label = noSignal ? "Depart needs signal (the manifest is emailed ashore)"
    : pending() ? `Depart (sends ${plural(pending(), "waiting tap", "waiting taps")} first)` : "Depart";
  return h("button", {
    type: "button", class: "primary needs-captain", id: "dock-depart", disabled: noSignal,
    onclick: async () => {
      if (pending() && !(await sendWaiting())) return;
      confirming = true;
      render();
      $("#depart-confirm")?.focus();
    },
  }, label);
}

/** Send this phone's waiting taps now; true once none wait. */
async function sendWaiting() {
  const o = await outbox();
  await o.flush();
  waiting = await o.queuedMarks(state.trip.id);
  if (pending()) {
    toast("The waiting taps could not be sent yet: no signal.");
    return false;
  }
  server = await apiFetch(path(state.trip.id, "/manifest")).catch(() => server);
  state = withWaiting(server, waiting);
  return true;
}

async function post(tail, body) {
  busy = true;
  changes++;
  try {
    server = await apiFetch(path(state.trip.id, tail), { method: "POST", body });
    changes++;
    state = withWaiting(server, waiting);
    return true;
  } catch (err) {
    if (err.status !== 401) toast(err.message);
    return false;
  } finally {
    busy = false;
  }
}

async function toggle(p) {
  if (busy) return;
  const boarding = !p.boarded;
  const { boarded, limit } = state.counts;
  // The limit, checked here against the list on the phone (the API checks again).
  if (boarding && boarded >= limit) {
    toast(`Over the limit: ${boarded} aboard, ${limit} allowed. Put someone ashore first.`);
    return;
  }
  // `person` is their id within the waiver: two people of one name are two people.
  const body = { waiver_id: p.waiver_id, person: p.person, name: p.name, boarded: boarding, mark_id: newId() };
  let ok;
  if (offline || navigator.onLine === false || pending()) {
    ok = await queue(body); // after the taps already waiting, in order
  } else {
    busy = true;
    try {
      changes++;
      server = await apiFetch(path(state.trip.id, "/boarding"), { method: "POST", body });
      changes++;
      state = withWaiting(server, waiting);
      ok = true;
    } catch (err) {
      // No answer (no signal, a lost reply): keep the tap, same mark_id.
      ok = err.status === 0 ? await queue(body) : (err.status !== 401 && toast(err.message), false);
    } finally {
      busy = false;
    }
  }
  render();
  if (ok) {
    const again = [...root.querySelectorAll("button.person")].find((b) => b.dataset.waiver === p.waiver_id && b.dataset.person === String(p.person));
    again?.focus();
  }
}

/** Keep a tap on the phone and show it as waiting. */
async function queue(body) {
  const o = await outbox();
  await o.keepMark(state.trip.id, body);
  waiting = await o.queuedMarks(state.trip.id);
  state = withWaiting(server, waiting);
  if (navigator.onLine !== false) o.flush();
  return true;
}

async function depart() {
  if (busy) return;
  const ok = await post("/depart", {});
  confirming = !ok && confirming;
  render();
  // Say what is true: the manifest email is queued until the outbox has sent it.
  const email = MANIFEST_EMAIL[state.departure?.notification] ?? MANIFEST_EMAIL.pending;
  if (ok) toast(`Departed with ${plural(state.trip.departed_headcount ?? 0, "person", "people")} aboard. ${email}.`);
}

async function comeBack() {
  if (busy) return;
  if (await post("/return", {})) toast("Return recorded.");
  render();
}

// ---- the printed manifest: one sheet, print.css hides the page around it ----

async function printManifest() {
  if (!state) return;
  await useStyles("print.css");
  const t = state.trip;
  const aboardOnly = Boolean(t.departed_at);
  const rows = state.passengers.filter((p) => !aboardOnly || p.boarded);
  const contacts = rows.some((p) => "emergency_phone" in p);
  document.querySelector(".print-sheet")?.remove();
  const sheet = h("section", { class: "print-sheet", "aria-hidden": "true" },
    h("h1", {}, `Passenger manifest · ${t.title}`),
    h("p", {}, `${formatDay(datePart(t.starts_at))}, ${formatSpan(t.starts_at, t.ends_at)}`),
    h("p", {}, [
      `Boat: ${state.boat?.name ?? t.boat ?? "—"}`,
      state.boat?.uscg_number && `USCG ${state.boat.uscg_number}`,
      `Limit ${state.counts.limit}`,
      `Captain: ${t.captain ?? "—"}`,
      t.crew?.length && `Crew: ${t.crew.join(", ")}`,
    ].filter(Boolean).join(" · ")),
    h("p", {}, t.departed_at
      ? `Departed ${formatStamp(t.departed_at)} with ${t.departed_headcount} aboard · expected back ${formatStamp(t.ends_at)}`
      : `${state.counts.boarded} aboard of ${state.counts.limit} allowed · not departed yet`),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Name"), h("th", {}, "Minor"), h("th", {}, "Aboard"),
        contacts && h("th", {}, "Emergency contact"))),
      h("tbody", {}, rows.map((p, i) => h("tr", {},
        h("td", {}, String(i + 1)), h("td", {}, p.name), h("td", {}, p.minor ? "minor" : ""), h("td", {}, p.boarded ? "✓" : ""),
        contacts && h("td", {}, [p.emergency_name, p.emergency_phone].filter(Boolean).join(", ")))))),
    h("p", { class: "signed-line" }, "Captain's signature: ______________________"));
  document.body.append(sheet);
  window.print();
}
