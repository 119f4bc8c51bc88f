// Create and edit a trip. Edits send only what changed plus the version they started
// from; if someone else saved first (409) the form reloads with their version.
// The trip's crew accounts (crew_ids: who shares a tip "for the crew") are ticked in
// a list of the active accounts, built here once the accounts arrive.
import { apiFetch } from "./api.js";
import { OPERATOR_TZ } from "./config.js";
import { centsToInput, clearErrors, errorLine, parseDollars, showError, submitting, toast, useStyles } from "./forms.js";
import { $, datePart, h, isYmd, timePart, todayIn } from "./ui.js";

const row = (...cells) => h("div", { class: "row" }, cells.map((cell) => h("div", {}, cell)));
const save = h("button", { type: "submit", class: "primary", id: "trip-save" }, "Save trip");
const notice = h("p", { class: "notice", id: "trip-notice", role: "status", tabindex: "-1", hidden: true });
const crewBox = h("fieldset", { class: "choices", id: "trip-crew-ids", "data-field": "crew_ids", hidden: true },
  h("legend", {}, "Crew accounts ", h("span", { class: "hint" }, "(they share tips for the crew)")));
// Built here, not in index.html, so the board's first load does not carry it.
const form = h("form", { id: "trip-form", novalidate: true },
  notice,
  h("label", { for: "trip-name" }, "Title"),
  h("input", { id: "trip-name", "data-field": "title", required: true, maxlength: "120" }),
  h("label", { for: "trip-date" }, "Date"),
  h("input", { id: "trip-date", "data-field": "starts_at", type: "date", required: true }),
  row([h("label", { for: "trip-start" }, "Starts"), h("input", { id: "trip-start", type: "time", required: true })],
    [h("label", { for: "trip-end" }, "Ends"), h("input", { id: "trip-end", "data-field": "ends_at", type: "time", required: true })]),
  h("label", { for: "trip-boat" }, "Boat"),
  h("input", { id: "trip-boat", "data-field": "boat", maxlength: "80" }),
  row([h("label", { for: "trip-capacity" }, "Capacity"),
    h("input", { id: "trip-capacity", "data-field": "capacity", inputmode: "numeric", pattern: "[0-9]*", maxlength: "3", required: true })],
  [h("label", { for: "trip-price" }, "Price ($)"), h("input", { id: "trip-price", "data-field": "price_cents", inputmode: "decimal", maxlength: "16" })]),
  h("label", { for: "trip-captain" }, "Captain"),
  h("input", { id: "trip-captain", "data-field": "captain", maxlength: "80" }),
  h("label", { for: "trip-crew" }, "Crew ", h("span", { class: "hint" }, "(names, comma separated)")),
  h("input", { id: "trip-crew", "data-field": "crew", maxlength: "800" }),
  crewBox,
  h("label", { for: "trip-notes" }, "Notes"),
  h("textarea", { id: "trip-notes", "data-field": "notes", rows: "3", maxlength: "2000" }),
  errorLine(),
  save);
$("#trip-view").append(form);
let editId = null; // set while editing an existing trip
let editing = null; // that trip as loaded (null until it arrives)
let fleet = null; // ./fleet.js once loaded: the boats of the fleet for the Boat field

const field = (id) => $(`#trip-${id}`);

useStyles("money.css");
let accounts = null; // the active accounts, fetched when the form opens

/** Tick `ids` in the list of active accounts (an account no longer active stays, ticked). */
async function showCrewIds(ids = []) {
  try {
    accounts ??= (await apiFetch("/api/accounts")).accounts.filter((a) => a.status !== "disabled");
  } catch {
    return; // no signal or not allowed: the trip keeps the crew accounts it has
  }
  const known = new Set(accounts.map((a) => a.id));
  const box = (id, name) => h("label", { class: "choice" },
    h("input", { type: "checkbox", value: id, checked: ids.includes(id) }), name);
  crewBox.replaceChildren(crewBox.firstChild,
    ...accounts.map((a) => box(a.id, a.display_name)),
    ...ids.filter((id) => !known.has(id)).map((id) => box(id, "An account no longer active")));
  crewBox.hidden = false;
}

const crewIds = () => (crewBox.hidden ? undefined : [...crewBox.querySelectorAll("input:checked")].map((i) => i.value));

function setNotice(text) {
  notice.textContent = text || "";
  notice.hidden = !text;
}

function fill(ev) {
  field("name").value = ev.title;
  field("date").value = datePart(ev.starts_at);
  field("start").value = timePart(ev.starts_at);
  field("end").value = timePart(ev.ends_at);
  field("boat").value = ev.boat ?? "";
  field("capacity").value = ev.capacity;
  field("price").value = centsToInput(ev.price_cents);
  field("captain").value = ev.captain ?? "";
  field("crew").value = ev.crew.join(", ");
  field("notes").value = ev.notes ?? "";
  showCrewIds(ev.crew_ids ?? []);
}

function start(title, back) {
  form.reset();
  clearErrors(form);
  setNotice("");
  $("#trip-title").textContent = title;
  $("#trip-back").href = back;
  save.disabled = false;
  crewBox.hidden = true;
  accounts = null; // asked again each time: someone may have been added meanwhile
  import("./fleet.js").then((m) => { fleet = m; return m.attachFleet(field("boat")); });
}

export function newTrip() {
  editId = null;
  editing = null;
  start("New trip", "#/");
  field("date").value = todayIn(OPERATOR_TZ);
  showCrewIds();
}

export async function editTrip(id, message = "") {
  editId = id;
  editing = null;
  start("Edit trip", `#/e/${encodeURIComponent(id)}`);
  save.disabled = true; // until the current version is here
  setNotice(message || "Loading…");
  try {
    const data = await apiFetch(`/api/events/${encodeURIComponent(id)}`);
    if (editId !== id) return; // the crew moved on meanwhile
    editing = data.event;
    fill(editing);
    setNotice(message);
    save.disabled = false;
  } catch (e) {
    if (e.status !== 401) setNotice(`Could not load this trip. ${e.message}`);
  }
}

/** The form as API fields, or throws [message, field] for the first problem. */
function read() {
  const title = field("name").value.trim();
  const date = field("date").value;
  const from = field("start").value;
  const to = field("end").value;
  if (!title) throw ["Give the trip a title.", "title"];
  if (!isYmd(date)) throw ["Pick the date.", "starts_at"];
  if (!from) throw ["Enter the start time.", "starts_at"];
  if (!to) throw ["Enter the end time.", "ends_at"];
  if (to <= from) throw ["The trip must end after it starts.", "ends_at"];
  const cap = field("capacity").value.trim();
  if (!/^\d{1,3}$/.test(cap) || Number(cap) < 1) throw ["Capacity is how many people the boat takes (1 or more).", "capacity"];
  let price = null;
  if (field("price").value.trim()) {
    try {
      price = parseDollars(field("price").value);
    } catch (e) {
      throw [e.message, "price_cents"];
    }
  }
  // No offset: the API reads a bare local time in the operator's zone (DST included).
  return {
    title,
    starts_at: `${date}T${from}:00`,
    ends_at: `${date}T${to}:00`,
    boat: field("boat").value.trim(),
    boat_id: fleet?.boatIdFor(field("boat").value),
    capacity: Number(cap),
    price_cents: price,
    captain: field("captain").value.trim(),
    crew: field("crew").value.split(",").map((s) => s.trim()).filter(Boolean),
    crew_ids: crewIds(),
    notes: field("notes").value.trim(),
  };
}

function same(key, value, ev) {
  if (key === "starts_at" || key === "ends_at") return value.slice(0, 16) === ev[key].slice(0, 16);
  if (key === "crew") return value.join("\n") === ev.crew.join("\n");
  if (key === "boat_id") return value === undefined || value === (ev.boat_id ?? null);
  if (key === "crew_ids") return value === undefined || [...value].sort().join() === [...(ev.crew_ids ?? [])].sort().join();
  return (value ?? "") === (ev[key] ?? "");
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (editId && !editing) return;
  clearErrors(form);
  let fields;
  try {
    fields = read();
  } catch ([message, name]) {
    return showError(form, message, name);
  }
  let path = "/api/events";
  let method = "POST";
  let body;
  if (editing) {
    body = Object.fromEntries(Object.entries(fields).filter(([k, v]) => !same(k, v, editing)));
    if (!Object.keys(body).length) {
      location.hash = `#/e/${encodeURIComponent(editing.id)}`;
      return;
    }
    body.version = editing.version;
    path += `/${encodeURIComponent(editing.id)}`;
    method = "PATCH";
  } else {
    // A new trip leaves blanks out rather than sending empty values.
    body = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length)));
  }
  await submitting(form, async () => {
    const res = await apiFetch(path, { method, body });
    const to = `#/e/${encodeURIComponent(res.event.id)}`;
    toast(editing ? "Trip saved." : "Trip created.", { on: to });
    location.hash = to;
  }, {
    onError(err) {
      if (err.status !== 409 || err.code !== "stale" || !editId) return false;
      editTrip(editId, "Someone else changed this trip while you were editing. Their version is loaded below: check it and make your change again.")
        .then(() => notice.focus());
      return true;
    },
  });
  save.disabled = Boolean(editId && !editing);
});
