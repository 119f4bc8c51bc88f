// The Exports screen, loaded when first opened (captains and owners; the API refuses
// crew the same): the ledger as CSV for a range of dates, the tips each person got in
// a range, and one day's cash-up as a table and as CSV. The CSVs need the crew token,
// which a plain link cannot send: they are fetched, then saved from a Blob.
import { apiFetch, myAccount } from "./api.js";
import { OPERATOR_TZ } from "./config.js";
import { clearErrors, showError, submitting, useStyles } from "./forms.js";
import { $, addDays, datePart, fill, formatCents, formatDay, h, isYmd, todayIn } from "./ui.js";

// The API's payment methods (PaymentMethod), in its order.
const METHODS = ["cash", "card", "check", "venmo", "zelle", "other"];

/** Save `text` as a file the phone keeps (Downloads), named `name`. */
function saveFile(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** GET a CSV with the token; resolves to the file name it was saved under. */
async function downloadCsv(path, fallbackName) {
  const { text, headers } = await apiFetch(path, { raw: true });
  const named = /filename="?([^";]+)"?/.exec(headers.get("Content-Disposition") ?? "");
  const name = named ? named[1] : fallbackName;
  saveFile(text, name);
  return name;
}

const q = (params) => new URLSearchParams(params).toString();

/** A date field with its label; `field` is the API's name for it (errors land there). */
function dateField(id, label, value, field) {
  return [h("label", { for: id }, label), h("input", { id, type: "date", value, "data-field": field, required: true })];
}

/** The from/to of a range form, checked; null after showing what is wrong. */
function range(form, prefix) {
  const from = $(`#${prefix}-from`).value;
  const to = $(`#${prefix}-to`).value;
  if (!isYmd(from)) return showError(form, "Choose the first day.", "from"), null;
  if (!isYmd(to)) return showError(form, "Choose the last day.", "to"), null;
  if (to < from) return showError(form, "The last day is before the first.", "to"), null;
  return { from, to };
}

const errorLine = () => h("p", { class: "error", role: "alert", tabindex: "-1", hidden: true });

// ---- the ledger CSV ----

function ledgerForm(from, to) {
  const done = h("p", { class: "success", role: "status", hidden: true });
  const form = h("form", { id: "ledger-form", novalidate: true },
    h("h2", {}, "Ledger CSV"),
    h("p", { class: "hint" }, "Every fare, tip, refund and void of the trips on these days."),
    h("div", { class: "row" },
      h("div", {}, dateField("ledger-from", "From", from, "from")),
      h("div", {}, dateField("ledger-to", "To", to, "to"))),
    errorLine(),
    done,
    h("button", { type: "submit", class: "primary" }, "Download ledger CSV"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearErrors(form);
    done.hidden = true;
    const r = range(form, "ledger");
    if (!r) return;
    submitting(form, async () => {
      const name = await downloadCsv(`/api/payments.csv?${q(r)}`, `payments-${r.from}-${r.to}.csv`);
      done.textContent = `Downloaded ${name}.`;
      done.hidden = false;
    }, { busyText: "Downloading…" });
  });
  return form;
}

// ---- tips per person ----

function tipsRow(p) {
  return h("li", {},
    h("p", { class: "line" }, h("span", { class: "amount" }, formatCents(p.tips_cents)), h("span", { class: "who" }, p.name)),
    p.trips.length > 0 && h("ul", { class: "meta trips" }, p.trips.map((t) =>
      h("li", {}, `${formatDay(datePart(t.starts_at))} · ${t.title}: ${formatCents(t.cents)}`))));
}

function showTips(data) {
  const out = $("#tips-out");
  fill(out,
    h("p", { class: "total" }, `Tips ${formatDay(data.from)} – ${formatDay(data.to)}: `, h("strong", {}, formatCents(data.total_cents))),
    data.people.length
      ? h("ul", { class: "ledger", id: "tips-list" }, data.people.map(tipsRow))
      : h("p", { class: "empty" }, "No tips in these days."));
}

function tipsForm(from, to) {
  const form = h("form", { id: "tips-form", novalidate: true },
    h("h2", {}, "Tips"),
    h("div", { class: "row" },
      h("div", {}, dateField("tips-from", "From", from, "from")),
      h("div", {}, dateField("tips-to", "To", to, "to"))),
    errorLine(),
    h("button", { type: "submit", class: "primary" }, "Show tips"),
    h("div", { id: "tips-out", "aria-live": "polite" }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearErrors(form);
    const r = range(form, "tips");
    if (!r) return;
    submitting(form, async () => showTips(await apiFetch(`/api/tips?${q(r)}`)), { busyText: "Loading…" });
  });
  return form;
}

// ---- the day's cash-up ----

/** {cash: 4000, card: 0, ...} as "cash $40.00" lines, the methods with money only. */
function byMethod(sums = {}) {
  const lines = METHODS.filter((m) => sums[m]).map((m) => h("span", { class: "m" }, `${m} ${formatCents(sums[m])}`));
  for (const m of Object.keys(sums)) if (!METHODS.includes(m) && sums[m]) lines.push(h("span", { class: "m" }, `${m} ${formatCents(sums[m])}`));
  return lines.length ? lines : "—";
}

/** A row: the person (a row header), the cash to hand in (first: what a phone shows
 * without scrolling sideways), then fares, tips and refunds by method. */
function cashupRow(who, sums, cash) {
  return h("tr", {}, h("th", { scope: "row" }, who), h("td", { class: "num" }, formatCents(cash)),
    [sums.fares, sums.tips, sums.refunds].map((s) => h("td", {}, byMethod(s))));
}

function showCashup(data) {
  const rows = data.accounts.map((a) => cashupRow(a.name, a, a.cash_to_hand_in_cents));
  const t = data.totals;
  const voided = data.accounts.flatMap((a) => (a.voided ?? []).map((v) => ({ ...v, name: a.name })));
  fill($("#cashup-out"),
    h("div", { class: "scroll", role: "region", "aria-labelledby": "cashup-caption", tabindex: "0" },
      h("table", { class: "money", id: "cashup-table" },
        h("caption", { id: "cashup-caption" }, `Cash-up for ${formatDay(data.date)}`),
        h("thead", {}, h("tr", {}, ["Person", "Cash to hand in", "Fares", "Tips", "Refunds"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: "5", class: "empty" }, "Nothing collected this day."))),
        h("tfoot", {}, cashupRow("Totals", t, t.cash_to_hand_in_cents)))),
    voided.length > 0 && h("h3", {}, "Voided (not counted)"),
    voided.length > 0 && h("ul", { class: "ledger", id: "cashup-voided" }, voided.map((v) =>
      h("li", {}, h("p", { class: "line" }, h("span", { class: "amount" }, formatCents(v.amount_cents)), h("span", { class: "who" }, v.name)),
        h("p", { class: "meta" }, [v.kind, v.method, v.void_reason && `Voided: ${v.void_reason}`].filter(Boolean).join(" · "))))));
}

function cashupForm(day) {
  const done = h("p", { class: "success", role: "status", hidden: true });
  const csv = h("button", { type: "button", id: "cashup-csv" }, "Download cash-up CSV");
  const form = h("form", { id: "cashup-form", novalidate: true },
    h("h2", {}, "Cash-up"),
    h("p", { class: "hint" }, "The money that changed hands that day, whatever trip it was for: what each person took by method, refunds paid out, and the cash to hand in."),
    dateField("cashup-date", "Day", day, "date"),
    errorLine(),
    done,
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Show cash-up"), csv),
    h("div", { id: "cashup-out", "aria-live": "polite" }));
  const picked = () => {
    const date = $("#cashup-date").value;
    if (!isYmd(date)) return showError(form, "Choose the day.", "date"), null;
    return date;
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearErrors(form);
    done.hidden = true;
    const date = picked();
    if (date) submitting(form, async () => showCashup(await apiFetch(`/api/cashup?${q({ date })}`)), { busyText: "Loading…" });
  });
  csv.addEventListener("click", async () => {
    clearErrors(form);
    done.hidden = true;
    const date = picked();
    if (!date || csv.disabled) return;
    csv.disabled = true;
    try {
      const name = await downloadCsv(`/api/cashup?${q({ date, format: "csv" })}`, `cashup-${date}.csv`);
      done.textContent = `Downloaded ${name}.`;
      done.hidden = false;
    } catch (err) {
      if (err.status !== 401) showError(form, err.message, err.field);
    } finally {
      csv.disabled = false;
    }
  });
  return form;
}

export function showExports() {
  const view = $("#exports-view");
  const back = h("a", { href: "#/", class: "back" }, "‹ Board");
  const title = h("h1", { id: "exports-title", tabindex: "-1" }, "Exports");
  const role = myAccount()?.role;
  if (role !== "captain" && role !== "owner") {
    view.replaceChildren(back, title, h("p", { class: "notice" }, "Exports are for captains and the owner."));
    return;
  }
  useStyles("money.css");
  const today = todayIn(OPERATOR_TZ);
  const monthStart = `${today.slice(0, 8)}01`;
  view.replaceChildren(back, title,
    ledgerForm(monthStart, today),
    tipsForm(addDays(today, -6), today),
    cashupForm(today));
}
