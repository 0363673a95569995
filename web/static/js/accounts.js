// Comptes (direction only): list the accounts (GET /api/accounts), create one with the
// bindings its role needs (POST), disable or enable one (PATCH).
import { esc, getJSON, postJSON, sendJSON } from "./api.js";
import { $ } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

// The binding each role needs (geo.accounts.BINDING_OF_ROLE); a partenaire also names
// the organisation whose actions it updates.
const BINDING = { admin: null, planificateur: "csp", chef: "gpo", partenaire: "gpo", commune: "commune", referent: "csp" };
const when = (iso) => (iso ? new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" }) : "jamais");
let me = null;
let gpoNames = new Map();
const communeNames = new Map(); // code → name, from the CSPs' communes
let cspNames = new Map();

const chosen = (id) => [...$(id).selectedOptions].map((o) => o.value);

function showBindings() {
  const role = $("a-role").value;
  for (const div of document.querySelectorAll(".binding")) {
    const kind = div.dataset.binding;
    div.hidden = !role || !(kind === BINDING[role] || (kind === "partner" && role === "partenaire"));
  }
}

function bindings(a) {
  const parts = [
    ...a.csp_ids.map((id) => cspNames.get(id) ?? `CSP n° ${id}`),
    ...a.gpo_ids.map((id) => gpoNames.get(id) ?? `GPO n° ${id}`),
    ...a.commune_codes.map((code) => (communeNames.has(code) ? `${communeNames.get(code)} (${code})` : `commune ${code}`)),
  ];
  return parts.join(", ") || "tout le département";
}

async function showAccounts() {
  const accounts = await getJSON("/api/accounts");
  $("account-table").querySelector("tbody").replaceChildren(...accounts.data.map((a) => {
    const tr = document.createElement("tr");
    tr.dataset.email = a.email;
    const toggle = a.id === me.id ? "" : `<button type="button" class="toggle">${a.active ? "Désactiver" : "Réactiver"}</button>`;
    tr.innerHTML = `<th scope="row">${esc(a.email)}</th><td>${esc(a.name === a.email ? "—" : a.name)}</td><td>${esc(a.role_label)}</td>`
      + `<td>${esc(bindings(a))}</td><td>${when(a.last_login_at)}</td><td class="account-state">${a.active ? "actif" : "désactivé"}</td><td>${toggle}</td>`;
    tr.querySelector(".toggle")?.addEventListener("click", () => toggleActive(a).catch(showError));
    return tr;
  }));
}

async function toggleActive(account) {
  if (account.active && !confirm(`Désactiver le compte ${account.email} ? Ses sessions et ses jetons cessent de fonctionner.`)) return;
  await sendJSON("PATCH", `/api/accounts/${account.id}`, { active: !account.active });
  await showAccounts();
}

const showError = (e) => { $("account-error").textContent = `Modification refusée : ${e.detail ?? e.message}`; };

$("a-role").addEventListener("change", showBindings);
$("account-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("account-form");
  clearRefusal(form);
  $("account-error").textContent = "";
  $("account-done").textContent = "";
  const refuse = (field, label, msg) => showRefusal(form, { message: `${label} : ${msg}`, fields: [{ field, label, msg }] }, $("account-error"), "Compte non créé");
  const role = $("a-role").value;
  const body = {
    email: $("a-email").value.trim(),
    name: $("a-name").value.trim() || null,
    role,
    password: $("a-password").value,
    csp_ids: BINDING[role] === "csp" ? chosen("a-csp").map(Number) : [],
    gpo_ids: BINDING[role] === "gpo" ? chosen("a-gpo").map(Number) : [],
    commune_codes: BINDING[role] === "commune" ? chosen("a-commune") : [],
    partner_id: role === "partenaire" && $("a-partner").value ? Number($("a-partner").value) : null,
  };
  if (!body.email) { refuse("email", "Adresse électronique", "obligatoire"); return; }
  if (!role) { refuse("role", "Rôle", "choisissez-en un"); return; }
  if (body.password.length < 12) { refuse("password", "Mot de passe", "12 caractères au moins"); return; }
  try {
    const created = await postJSON("/api/accounts", body);
    $("account-done").textContent = `Compte créé : ${created.email} (${created.role_label}). Communiquez-lui son mot de passe provisoire.`;
    $("account-form").reset();
    showBindings();
    await showAccounts();
  } catch (e) {
    showRefusal(form, e, $("account-error"), "Compte non créé");
  }
});

try {
  me = await getJSON("/api/me");
  const csps = (await getJSON("/api/csp")).data;
  cspNames = new Map(csps.map((c) => [c.id, `CSP ${c.name}`]));
  $("a-csp").append(...csps.map((c) => new Option(c.name, c.id)));
  for (const csp of csps) {
    const [gpos, partners, communes] = await Promise.all([
      getJSON(`/api/csp/${csp.id}/gpos`),
      getJSON(`/api/csp/${csp.id}/partners`),
      getJSON(`/api/communes?csp=${csp.id}`),
    ]);
    for (const g of gpos.data) gpoNames.set(g.id, g.name);
    $("a-gpo").append(...gpos.data.map((g) => new Option(`${g.name} (${csp.name})`, g.id)));
    $("a-partner").append(...partners.data.map((p) => new Option(`${p.organisation} (${csp.name})`, p.id)));
    for (const f of communes.features) communeNames.set(f.properties.code, f.properties.name);
    $("a-commune").append(...communes.features.map((f) => new Option(`${f.properties.name} (${f.properties.code})`, f.properties.code)));
  }
  showBindings();
  await showAccounts();
} catch (e) {
  $("account-error").textContent = `Comptes indisponibles : ${e.detail ?? e.message}`;
} finally {
  document.body.dataset.ready = "true";
}
