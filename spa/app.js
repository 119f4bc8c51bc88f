// Entry point: a tiny hash router over the views, and the service worker. What waits on
// the phone to be sent is saved.js. Only the board's code is imported here; the trip,
// its form, the payment modal and the login screen load when first needed (and are
// fetched quietly once the board is up), so a bad line carries the board first.
//   #/              the board from today      #/week/YYYY-MM-DD  the board from that day
//   #/e/{id}        one trip                  #/e/{id}/edit      edit it      #/new  a new trip
//   #/account       my account (account.js)   #/crew             crew accounts (crew.js)
//   #/exports       ledger CSV, tips, cash-up (exports.js; captains and owners)
//   #/setup/{code}  set your password from a setup link (account.js)
import { apiFetch, loadSession, saveSession, session, showRole, whenUnauthorized } from "./api.js";
import { boardFrom, loadBoard } from "./board.js";
import { $, addDays, isYmd } from "./ui.js";

// What waits on the phone to be sent is not needed to draw the board: it arrives beside it.
const saved = import("./saved.js");
const sendSaved = () => saved.then((s) => s.sendSaved());

const LATER = ["./detail.js", "./trip.js", "./payment.js", "./login.js"];
const login = (message) => import("./login.js").then((m) => m.showLogin(show, loggedIn, message));
const logOut = () => import("./login.js").then((m) => m.logOut(show, loggedIn));

const VIEWS = ["login", "board", "detail", "trip", "setup", "account", "crew", "exports"];

let current = null;
let currentPath = null;
function show(view) {
  for (const v of VIEWS) $(`#${v}-view`).hidden = v !== view;
  const out = view === "login" || view === "setup";
  $("#menu").hidden = out;
  // A new screen: focus its heading so screen readers announce it. Paging the board
  // keeps focus on the button that was pressed, and a screen that put focus in its
  // first field (login, set password) keeps it there: a crew member already typing
  // must not have the next letters land somewhere else.
  if (view !== current) {
    requestAnimationFrame(() => {
      const here = $(`#${view}-view`);
      if (!here.contains(document.activeElement)) here.querySelector("h1")?.focus({ preventScroll: true });
    });
  }
  if (location.hash !== currentPath) {
    window.scrollTo(0, 0);
    $("#menu").open = false;
  }
  current = view;
  currentPath = location.hash;
}

/** Show `view` and run `fn` once `file` is loaded, unless the crew went elsewhere meanwhile. */
function later(file, view, fn) {
  const here = location.hash;
  import(file).then((mod) => {
    if (location.hash !== here) return;
    show(view);
    fn(mod);
  });
}

/** Show the screen the hash names; `refresh` redraws it without a "Loading" step. */
function route({ refresh = false } = {}) {
  showRole(); // the session may have changed since the last route (another tab, a test)
  const path = location.hash.replace(/^#/, "") || "/";
  let m;
  // A screen whose code loads later is shown once that code is here, so no form is
  // on screen without its handler. The account screens are such screens too.
  if ((m = /^\/setup\/([^/]+)$/.exec(path))) {
    return later("./account.js", "setup", (a) => a.showSetup(decodeURIComponent(m[1]), route));
  }
  if (!session()) return login();
  if (path === "/account") {
    later("./account.js", "account", (a) => a.showAccount(logOut));
  } else if (path === "/crew") {
    later("./crew.js", "crew", (c) => c.showCrew());
  } else if (path === "/exports") {
    later("./exports.js", "exports", (x) => x.showExports());
  } else if ((m = /^\/e\/([^/]+)\/edit$/.exec(path))) {
    later("./trip.js", "trip", (t) => t.editTrip(decodeURIComponent(m[1])));
  } else if ((m = /^\/e\/([^/]+)$/.exec(path))) {
    later("./detail.js", "detail", (d) => d.showDetail(decodeURIComponent(m[1]), { refresh }));
  } else if (path === "/new") {
    later("./trip.js", "trip", (t) => t.newTrip());
  } else {
    m = /^\/week\/(.+)$/.exec(path);
    show("board");
    loadBoard(m && isYmd(m[1]) ? m[1] : null, { refresh });
  }
}

/** Go to a hash; if it is already the current one, route anyway (a reload). */
function go(hash) {
  if (location.hash === hash || (hash === "#/" && !location.hash)) route();
  else location.hash = hash;
}

function loggedIn() {
  route();
  sendSaved();
}

whenUnauthorized(login);
// No form of this page is ever sent by the browser itself (that would reload the page).
document.addEventListener("submit", (e) => e.preventDefault(), true);
$("#logout").addEventListener("click", logOut);
// The header's menu (Crew, Exports, My account, Log out) folds away once used, on Esc
// and on a tap elsewhere.
document.addEventListener("click", (e) => {
  if (!e.target.closest?.("#menu")) $("#menu").open = false;
});
$("#menu").addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || !$("#menu").open) return;
  $("#menu").open = false;
  $("#menu-button").focus();
});
window.addEventListener("hashchange", () => route());
// Redraw what is on screen when some of it was sent.
saved.then((s) => s.watch(() => (current === "board" || current === "detail") && route({ refresh: true })));

$("#prev-week").addEventListener("click", () => go(`#/week/${addDays(boardFrom(), -7)}`));
$("#next-week").addEventListener("click", () => go(`#/week/${addDays(boardFrom(), 7)}`));
$("#this-week").addEventListener("click", () => go("#/"));

// Service workers need a secure context (https, or http on 127.0.0.1/localhost).
navigator.serviceWorker?.register("sw.js", { type: "module", updateViaCache: "none" }).catch(() => {});

await loadSession();
// A session from before roles were stored: ask who it is, so role-hidden buttons are right.
const stored = session();
if (stored && !stored.account) {
  apiFetch("/api/me").then((me) => saveSession(stored.token, stored.expires_at, me.account)).catch(() => {});
}
route();
sendSaved();
// The rest of the page's code, once the board is on its way (the service worker has it too).
setTimeout(() => LATER.forEach((m) => import(m).catch(() => {})), 1000);
