// Sign-in page: posts the form to /api/auth/login (the server sets the session cookie),
// then goes to ?next= when it is a path of this site, else to the home page (which leads
// on to the role's start page). The demo accounts' « Utiliser » buttons fill the form.
import { postJSON } from "./api.js";
import { $ } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

// `next` if it leads to this site (a path: no other host, no scheme), else "/".
export function localPath(next) {
  if (!next || !next.startsWith("/") || next.startsWith("//") || /[\\\u0000-\u001f]/.test(next)) return "/";
  const url = new URL(next, location.origin);
  return url.origin === location.origin ? `${url.pathname}${url.search}${url.hash}` : "/";
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("login-form");
  clearRefusal(form);
  $("login-error").textContent = "";
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  const missing = !email ? ["email", "Adresse électronique", "saisissez votre adresse électronique"]
    : !password ? ["password", "Mot de passe", "saisissez votre mot de passe"] : null;
  if (missing) {
    const [field, label, msg] = missing;
    showRefusal(form, { message: `${label} : ${msg}`, fields: [{ field, label, msg }] }, $("login-error"));
    return;
  }
  $("login-submit").disabled = true;
  try {
    await postJSON("/api/auth/login", { email, password });
    location.assign(localPath(new URLSearchParams(location.search).get("next")));
  } catch (e) {
    $("login-password").value = "";
    // A refused sign-in names no field (which of the two is wrong stays unsaid): the
    // password is typed again.
    if (!showRefusal(form, e, $("login-error"))) $("login-password").focus();
    $("login-submit").disabled = false;
  }
});
document.querySelectorAll(".demo-use").forEach((button) => button.addEventListener("click", () => {
  $("login-email").value = button.dataset.email;
  $("login-password").value = button.dataset.password;
  $("login-submit").focus();
}));
document.body.dataset.ready = "true";
