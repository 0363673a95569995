// Sign-in page: posts the form to /api/auth/login (the server sets the session cookie),
// then goes to ?next= when it is a path of this site, else to the home page (which leads
// on to the role's start page). The demo accounts' « Utiliser » buttons fill the form.
import { postJSON } from "./api.js";
import { $ } from "./ui.js";

// `next` if it leads to this site (a path: no other host, no scheme), else "/".
export function localPath(next) {
  if (!next || !next.startsWith("/") || next.startsWith("//") || /[\\\u0000-\u001f]/.test(next)) return "/";
  const url = new URL(next, location.origin);
  return url.origin === location.origin ? `${url.pathname}${url.search}${url.hash}` : "/";
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  if (!email || !password) {
    $("login-error").textContent = "Saisissez votre adresse électronique et votre mot de passe.";
    return;
  }
  $("login-submit").disabled = true;
  try {
    await postJSON("/api/auth/login", { email, password });
    location.assign(localPath(new URLSearchParams(location.search).get("next")));
  } catch (e) {
    $("login-error").textContent = e.detail ?? e.message;
    $("login-password").value = "";
    $("login-password").focus();
    $("login-submit").disabled = false;
  }
});
document.querySelectorAll(".demo-use").forEach((button) => button.addEventListener("click", () => {
  $("login-email").value = button.dataset.email;
  $("login-password").value = button.dataset.password;
  $("login-submit").focus();
}));
document.body.dataset.ready = "true";
