// Entry point: login, and a tiny hash router over four views.
//   #/              the board from today      #/week/YYYY-MM-DD  the board from that day
//   #/e/{id}        one trip                  #/e/{id}/edit      edit it      #/new  a new trip
import { apiFetch, clearSession, retryMinutes, saveSession, session, whenUnauthorized } from "./api.js";
import { boardFrom, loadBoard } from "./board.js";
import { addDays, isYmd } from "./dates.js";
import { showDetail } from "./detail.js";
import { editTrip, newTrip } from "./trip.js";
import { $, clearErrors, closeModal, showError, submitting } from "./ui.js";

const VIEWS = ["login", "board", "detail", "trip"];
const NAME_KEY = "scc.crewName";

let current = null;
let currentPath = null;
function show(view) {
  for (const v of VIEWS) $(`#${v}-view`).hidden = v !== view;
  $("#logout").hidden = view === "login";
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
  if (!session()) return showLogin();
  const path = location.hash.replace(/^#/, "") || "/";
  let m;
  if ((m = /^\/e\/([^/]+)\/edit$/.exec(path))) {
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
$("#logout").addEventListener("click", () => {
  clearSession();
  showLogin("You are logged out.");
});

$("#login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  clearErrors(form);
  $("#login-notice").hidden = true;
  const password = $("#login-password").value;
  const name = $("#login-name").value.trim();
  if (!password) return showError(form, "Enter the crew password.", "password");
  submitting(form, async () => {
    const body = { password };
    if (name) body.name = name;
    const res = await apiFetch("/api/login", { method: "POST", body, auth: false });
    saveSession(res.token, res.expires_at);
    localStorage.setItem(NAME_KEY, name);
    $("#login-password").value = "";
    route();
  }, {
    onError(err) {
      if (err.status === 401) showError(form, "Wrong password. Try again.", "password");
      else if (err.status === 429) {
        const n = retryMinutes(err.retryAfter);
        showError(form, `Too many attempts. Try again in ${n} minute${n === 1 ? "" : "s"}.`);
      } else showError(form, err.message, err.field);
      return true;
    },
  });
});

route();
