// The Crew screen, loaded when first opened (captains and owners): the accounts,
// adding one (its setup link to copy), disabling, enabling, resetting.
// A captain manages crew accounts only; the owner every account.
import { apiFetch, myAccount } from "./api.js";
import { clearErrors, showError, toast } from "./forms.js";
import { $, h } from "./ui.js";

let accounts = [];

const mayManage = (a) => myAccount()?.role === "owner" || a.role === "crew";

const SVG = "http://www.w3.org/2000/svg";

/** The QR code the API drew (rows of "0"/"1"), as one SVG path: no markup parsed. */
function qrCode(rows) {
  if (!Array.isArray(rows) || !rows.length) return null;
  const n = rows.length;
  let d = "";
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) if (row[x] === "1") d += `M${x} ${y}h1v1h-1z`;
  });
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${n} ${n}`);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code of the setup link");
  svg.setAttribute("shape-rendering", "crispEdges");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(path);
  return svg;
}

async function copy(input) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    if (!document.execCommand?.("copy")) return toast("Select the link and copy it.");
  }
  toast("Setup link copied.");
}

function showLink(who, answer) {
  const input = h("input", { id: "setup-link", readonly: true, value: answer.setup_url });
  const until = new Date(answer.setup_expires_at).toLocaleString();
  $("#crew-link").replaceChildren(
    h("p", { class: "success", role: "status" }, `Send ${who} this link to set a password. It works once, until ${until}.`),
    h("label", { for: "setup-link" }, "Setup link"),
    h("div", { class: "copy" }, input, h("button", { type: "button", onclick: () => copy(input) }, "Copy link")),
    qrCode(answer.setup_qr));
}

async function change(a, body, done) {
  try {
    await apiFetch(`/api/accounts/${encodeURIComponent(a.id)}`, { method: "PATCH", body });
    toast(done);
    await load();
  } catch (err) {
    if (err.status !== 401) toast(err.message);
  }
}

async function reset(a) {
  try {
    const answer = await apiFetch(`/api/accounts/${encodeURIComponent(a.id)}/reset`, { method: "POST", body: {} });
    showLink(a.display_name, answer);
    await load();
  } catch (err) {
    if (err.status !== 401) toast(err.message);
  }
}

function row(a) {
  const off = a.status === "disabled";
  const label = `${a.display_name}`;
  return h("li", { class: off ? "disabled" : "", "data-username": a.username },
    h("span", { class: "who" }, a.display_name),
    h("span", { class: "meta" }, `${a.username} · ${a.role}${off ? " · disabled" : ""}${a.password_set ? "" : " · link not used yet"}`),
    mayManage(a) && h("button", { type: "button", class: "ghost small", onclick: () => change(a, { status: off ? "active" : "disabled" }, off ? "Enabled." : "Disabled.") },
      off ? "Enable" : "Disable", h("span", { class: "sr" }, ` ${label}`)),
    mayManage(a) && h("button", { type: "button", class: "ghost small", onclick: () => reset(a) },
      "Reset", h("span", { class: "sr" }, ` ${label}`)));
}

async function load() {
  const list = $("#crew-list");
  try {
    accounts = (await apiFetch("/api/accounts")).accounts;
    list.replaceChildren(...accounts.map(row));
  } catch (err) {
    if (err.status !== 401) list.replaceChildren(h("li", { role: "alert" }, `Could not load the crew. ${err.message}`));
  }
}

function addForm() {
  const owner = myAccount()?.role === "owner";
  const roles = owner ? ["crew", "captain", "owner"] : ["crew"];
  const form = h("form", { id: "crew-form", novalidate: true },
    h("h2", {}, "Add someone"),
    h("label", { for: "crew-username" }, "Username"),
    h("input", { id: "crew-username", "data-field": "username", autocapitalize: "none", spellcheck: "false", maxlength: "32" }),
    h("label", { for: "crew-name" }, "Name shown"),
    h("input", { id: "crew-name", "data-field": "display_name", maxlength: "60" }),
    h("label", { for: "crew-role" }, "Role"),
    h("select", { id: "crew-role", "data-field": "role" }, roles.map((r) => h("option", { value: r }, r))),
    h("p", { class: "error", role: "alert", tabindex: "-1", hidden: true }),
    h("button", { type: "submit", class: "primary" }, "Add"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = {
      username: $("#crew-username").value.trim().toLowerCase(),
      display_name: $("#crew-name").value.trim(),
      role: $("#crew-role").value,
    };
    if (!body.username) return showError(form, "Choose a username.", "username");
    if (!body.display_name) return showError(form, "Enter the name crew will see.", "display_name");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await apiFetch("/api/accounts", { method: "POST", body });
      showLink(body.display_name, answer);
      form.reset();
      await load();
    } catch (err) {
      if (err.status !== 401) showError(form, err.message, err.field);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export function showCrew() {
  $("#crew-view").replaceChildren(
    h("a", { href: "#/", class: "back" }, "‹ Board"),
    h("h1", { id: "crew-title", tabindex: "-1" }, "Crew"),
    h("div", { id: "crew-link" }),
    h("ul", { id: "crew-list", class: "ledger accounts" }),
    addForm());
  load();
}
