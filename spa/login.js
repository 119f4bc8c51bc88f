// Logging in and out: everything about the crew's login screen lives here (loaded
// when first needed: a crew member already logged in never waits for it).
import { apiFetch, clearSession, forgetCached, retryMinutes, saveSession } from "./api.js";
import { clearErrors, closeModal, showError, submitting } from "./forms.js";
import { queuedMarks, saved } from "./outbox.js";
import { $ } from "./ui.js";

const NAME_KEY = "scc.crewName";
const form = $("#login-form");

let show = () => {}; // switches screens (app.js)
let loggedIn = () => {}; // what follows a login (app.js)

/** The login screen, with an optional notice ("Your session has ended…"). */
export function showLogin(showView, afterLogin, message = "") {
  show = showView;
  loggedIn = afterLogin;
  for (const m of document.querySelectorAll(".modal.active")) closeModal(m);
  const notice = $("#login-notice");
  notice.textContent = message;
  notice.hidden = !message;
  clearErrors(form);
  $("#login-name").value ||= localStorage.getItem(NAME_KEY) ?? "";
  show("login");
  // Focus now, in the step that shows the form, never a frame later (see show()).
  const name = $("#login-name");
  (name.value ? $("#login-password") : name).focus();
}

// Payments and boarding taps saved on the phone are never deleted by a log out: they
// stay, and are sent after the next login. Log out asks first so nobody thinks they went.
export async function logOut(showView, afterLogin) {
  const waiting = waitingByName(await saved());
  if (waiting.length) waiting.push("They stay on this phone and are sent when the one who saved them logs in here again.");
  const taps = (await queuedMarks()).filter((m) => !m.refused).length;
  if (taps) waiting.push(`${taps} boarding ${taps === 1 ? "tap is" : "taps are"} waiting on this phone, not sent yet: they go with the next login here.`);
  if (waiting.length && !confirm(`${waiting.join(" ")} Log out?`)) return;
  // Ends the account's tokens on the server too; offline, forgetting it here still counts.
  await apiFetch("/api/logout", { method: "POST", body: {} }).catch(() => {});
  await clearSession();
  await forgetCached(); // guests' names and notes do not outlive the login
  location.hash = "#/";
  showLogin(showView, afterLogin, "You are logged out.");
}

// "2 payments saved by Dan Diaz are waiting on this phone, not logged yet.", one line
// per account: a saved payment is sent only with the login of the one who saved it.
function waitingByName(all) {
  const by = new Map();
  for (const p of all) {
    const name = p.saved_by?.name || "an earlier login";
    by.set(name, (by.get(name) ?? 0) + 1);
  }
  return [...by].map(([name, n]) =>
    `${n} payment${n === 1 ? "" : "s"} saved by ${name} ${n === 1 ? "is" : "are"} waiting on this phone, not logged yet.`);
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  clearErrors(form);
  $("#login-notice").hidden = true;
  const password = $("#login-password").value;
  // The username; left empty, the owner's break-glass password.
  const name = $("#login-name").value.trim().toLowerCase();
  if (!password) return showError(form, "Enter your password.", "password");
  submitting(form, async () => {
    const res = await apiFetch("/api/login", { method: "POST", body: name ? { password, username: name } : { password }, auth: false });
    await saveSession(res.token, res.expires_at, res.account);
    localStorage.setItem(NAME_KEY, name);
    $("#login-password").value = "";
    loggedIn();
  }, {
    onError(err) {
      if (err.status === 401) showError(form, "Wrong username or password. Try again.", "password");
      else if (err.status === 429) {
        const n = retryMinutes(err.retryAfter);
        showError(form, `Too many attempts. Try again in ${n} minute${n === 1 ? "" : "s"}.`);
      } else showError(form, err.message, err.field);
      return true;
    },
  });
});
