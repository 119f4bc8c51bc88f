// Entry point: login, and a tiny hash router over four views.
//   #/              the board from today      #/week/YYYY-MM-DD  the board from that day
//   #/e/{id}        one trip                  #/e/{id}/edit      edit it      #/new  a new trip
//   #/account       my account (account.js)   #/crew             crew accounts (crew.js)
//   #/setup/{code}  set your password from a setup link (account.js)
import { apiFetch, clearSession, retryMinutes, saveSession, session, showRole, whenUnauthorized } from "./api.js";
import { boardFrom, loadBoard } from "./board.js";
import { addDays, isYmd } from "./dates.js";
import { showDetail } from "./detail.js";
import { editTrip, newTrip } from "./trip.js";
import { $, clearErrors, closeModal, showError } from "./ui.js";

const VIEWS = ["login", "board", "detail", "trip", "setup", "account", "crew"];
const NAME_KEY = "scc.crewName";

let current = null;
let currentPath = null;
function show(view) {
  for (const v of VIEWS) $(`#${v}-view`).hidden = v !== view;
  const out = view === "login" || view === "setup";
  for (const id of ["#logout", "#menu-account", "#menu-crew"]) $(id).hidden = out;
  // A new screen: focus its heading so screen readers announce it. Paging the board
  // keeps focus on the button that was pressed.
  if (view !== current) requestAnimationFrame(() => $(`#${view}-view h1`)?.focus({ preventScroll: true }));
  if (location.hash !== currentPath) window.scrollTo(0, 0);
  current = view;
  currentPath = location.hash;
}

function showLogin(message = "") {
  for (const m of document.querySelectorAll(".modal.active")) closeModal(m);
  const notice = $("#login-notice");
  notice.textContent = message;
  notice.hidden = !message;
  clearErrors($("#login-form"));
  $("#login-name").value ||= localStorage.getItem(NAME_KEY) ?? "";
  show("login");
  requestAnimationFrame(() => $("#login-password").focus());
}

function route() {
  showRole(); // the session may have changed since the last route (another tab, a test)
  const path = location.hash.replace(/^#/, "") || "/";
  let m;
  // The account screens live in their own modules, loaded when first opened.
  if ((m = /^\/setup\/([^/]+)$/.exec(path))) {
    show("setup");
    return import("./account.js").then((a) => a.showSetup(decodeURIComponent(m[1]), route));
  }
  if (!session()) return showLogin();
  if (path === "/account") {
    show("account");
    import("./account.js").then((a) => a.showAccount(() => logOut("You are logged out.")));
  } else if (path === "/crew") {
    show("crew");
    import("./crew.js").then((c) => c.showCrew());
  } else if ((m = /^\/e\/([^/]+)\/edit$/.exec(path))) {
    show("trip");
    editTrip(decodeURIComponent(m[1]));
  } else if ((m = /^\/e\/([^/]+)$/.exec(path))) {
    show("detail");
    showDetail(decodeURIComponent(m[1]));
  } else if (path === "/new") {
    show("trip");
    newTrip();
  } else {
    m = /^\/week\/(.+)$/.exec(path);
    show("board");
    loadBoard(m && isYmd(m[1]) ? m[1] : null);
  }
}

/** Go to a hash; if it is already the current one, route anyway (a reload). */
function go(hash) {
  if (location.hash === hash || (hash === "#/" && !location.hash)) route();
  else location.hash = hash;
}

whenUnauthorized((message) => showLogin(message));
window.addEventListener("hashchange", route);

$("#prev-week").addEventListener("click", () => go(`#/week/${addDays(boardFrom(), -7)}`));
$("#next-week").addEventListener("click", () => go(`#/week/${addDays(boardFrom(), 7)}`));
$("#this-week").addEventListener("click", () => go("#/"));
/** End the token server-side too, then forget it here. */
async function logOut(message) {
  try {
    await apiFetch("/api/logout", { method: "POST", body: {} });
  } catch {
    // Offline or already ended: forgetting it here is what the crew asked for.
  }
  clearSession();
  location.hash = "#/";
  showLogin(message);
}
$("#logout").addEventListener("click", () => logOut("You are logged out."));

let loggingIn = false;
$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  if (loggingIn) return;
  clearErrors(form);
  $("#login-notice").hidden = true;
  const password = $("#login-password").value;
  const name = $("#login-name").value.trim().toLowerCase();
  if (!password) return showError(form, "Enter your password.", "password");
  loggingIn = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const body = { password };
    if (name) body.username = name;
    const res = await apiFetch("/api/login", { method: "POST", body, auth: false });
    saveSession(res.token, res.expires_at, res.account);
    localStorage.setItem(NAME_KEY, name);
    $("#login-password").value = "";
    // A session from before roles were stored: ask who it is, so role-hidden buttons are right.
const stored = session();
if (stored && !stored.account) {
  apiFetch("/api/me").then((me) => saveSession(stored.token, stored.expires_at, me.account)).catch(() => {});
}
showRole();
route();
  } catch (err) {
    if (err.status === 401) showError(form, "Wrong username or password. Try again.", "password");
    else if (err.status === 429) {
      const n = retryMinutes(err.retryAfter);
      showError(form, `Too many attempts. Try again in ${n} minute${n === 1 ? "" : "s"}.`);
    } else showError(form, err.message, err.field);
  } finally {
    loggingIn = false;
    button.disabled = false;
  }
});

// A session from before roles were stored: ask who it is, so role-hidden buttons are right.
const stored = session();
if (stored && !stored.account) {
  apiFetch("/api/me").then((me) => saveSession(stored.token, stored.expires_at, me.account)).catch(() => {});
}
showRole();
route();
