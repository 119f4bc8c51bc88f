// Account screens, loaded when first opened: "set your password" from a setup link,
// and "My account" (change password, log out). Text goes in with textContent only.
import { apiFetch, myAccount, saveSession } from "./api.js";
import { clearErrors, showError, toast } from "./forms.js";
import { $, h } from "./ui.js";

const MIN = 10;

function passwordProblem(password, again) {
  if (password.length < MIN) return `Choose at least ${MIN} characters.`;
  if (new TextEncoder().encode(password).length > 72) return "That is too long (at most 72 bytes).";
  if (password !== again) return "The two passwords differ.";
  return null;
}

function field(id, label, attrs = {}) {
  return [h("label", { for: id }, label), h("input", { id, type: "password", autocomplete: "new-password", ...attrs })];
}

/** The set-your-password screen a setup link opens. `done` routes on once logged in. */
export function showSetup(code, done) {
  const view = $("#setup-view");
  const form = h("form", { id: "setup-form", novalidate: true },
    h("p", { class: "hint" }, "Choose the password you will log in with. This link works once."),
    field("setup-password", "New password", { "data-field": "password", required: true }),
    field("setup-again", "New password again", { required: true }),
    h("p", { class: "error", role: "alert", tabindex: "-1", hidden: true }),
    h("button", { type: "submit", class: "primary" }, "Set password"));
  view.replaceChildren(h("h1", { id: "setup-title", tabindex: "-1" }, "Set your password"), form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const password = $("#setup-password").value;
    const problem = passwordProblem(password, $("#setup-again").value);
    if (problem) return showError(form, problem, "password");
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const res = await apiFetch("/api/accounts/setup", { method: "POST", body: { code, password }, auth: false });
      saveSession(res.token, res.expires_at, res.account);
      toast(`Welcome aboard, ${res.account.display_name}.`, { on: "#/" });
      history.replaceState(null, "", "#/"); // the code is spent: keep it out of the history
      done();
    } catch (err) {
      showError(form, err.status === 410 ? "This link was used or has expired. Ask your captain for a new one." : err.message,
        err.status === 410 ? null : err.field);
    } finally {
      button.disabled = false;
    }
  });
  $("#setup-password").focus(); // now, never a frame later: the crew may be typing already
}

/** My account: who I am, change my password, log out. */
export function showAccount(logOut) {
  const me = myAccount();
  const view = $("#account-view");
  const breakGlass = me?.id === "admin";
  const form = h("form", { id: "password-form", novalidate: true },
    h("h2", {}, "Change password"),
    h("label", { for: "current-password" }, "Current password"),
    h("input", { id: "current-password", type: "password", autocomplete: "current-password", "data-field": "current_password" }),
    field("new-password", "New password", { "data-field": "new_password" }),
    field("new-again", "New password again"),
    h("p", { class: "hint" }, "Your other phones will have to log in again."),
    h("p", { class: "error", role: "alert", tabindex: "-1", hidden: true }),
    h("button", { type: "submit", class: "primary" }, "Change password"));
  view.replaceChildren(
    h("a", { href: "#/", class: "back" }, "‹ Board"),
    h("h1", { id: "account-title", tabindex: "-1" }, "My account"),
    h("p", { id: "account-who" }, me ? `${me.display_name} (${me.username}) · ${me.role}` : ""),
    breakGlass ? h("p", { class: "hint" }, "This is the owner's break-glass login: its password is changed in the deployment.") : form,
    h("button", { type: "button", id: "account-logout", class: "danger", onclick: logOut }, "Log out"));
  if (breakGlass) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const current = $("#current-password").value;
    const password = $("#new-password").value;
    if (!current) return showError(form, "Enter your current password.", "current_password");
    const problem = passwordProblem(password, $("#new-again").value);
    if (problem) return showError(form, problem, "new_password");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const res = await apiFetch("/api/me/password", { method: "POST", body: { current_password: current, new_password: password } });
      saveSession(res.token, res.expires_at, res.account);
      form.reset();
      toast("Password changed.");
    } catch (err) {
      if (err.status !== 401) showError(form, err.message, err.field);
    } finally {
      button.disabled = false;
    }
  });
}
