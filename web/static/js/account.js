// Account page: who the caller is (/api/me) and their personal access tokens
// (/api/me/tokens): create one with a name (shown once), revoke one.
import { esc, getJSON, postJSON, sendJSON } from "./api.js";
import { $ } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" }) : "—");

// The bindings by their names (names first, issue 23): the CSPs and their communes are
// open to every signed-in role, the GPOs to the roles that read them; the number or the
// code stays when a name cannot be read.
async function bindingNames(me) {
  const names = { csp: new Map(), gpo: new Map(), commune: new Map() };
  if (!me.csp_ids.length && !me.gpo_ids.length && !me.commune_codes.length) return names;
  const csps = (await getJSON("/api/csp")).data;
  for (const csp of csps) {
    names.csp.set(csp.id, csp.name);
    if (me.commune_codes.length) {
      const communes = await getJSON(`/api/communes?csp=${csp.id}`);
      for (const f of communes.features) names.commune.set(f.properties.code, f.properties.name);
    }
    if (me.gpo_ids.length) {
      const gpos = await getJSON(`/api/csp/${csp.id}/gpos`).catch(() => ({ data: [] }));
      for (const g of gpos.data) names.gpo.set(g.id, g.name);
    }
  }
  return names;
}

function bindings(me, names) {
  const parts = [];
  if (me.csp_ids.length) parts.push(`CSP ${me.csp_ids.map((id) => names.csp.get(id) ?? `n° ${id}`).join(", ")}`);
  if (me.gpo_ids.length) parts.push(me.gpo_ids.map((id) => names.gpo.get(id) ?? `GPO n° ${id}`).join(", "));
  if (me.commune_codes.length) {
    const communes = me.commune_codes.map((c) => (names.commune.has(c) ? `${names.commune.get(c)} (${c})` : c));
    parts.push(`${communes.length > 1 ? "Communes" : "Commune"} ${communes.join(", ")}`);
  }
  return parts.join(" ; ") || "Aucun : accès à tout le département";
}

function state(token) {
  if (token.revoked_at) return `Révoqué le ${when(token.revoked_at)}`;
  if (token.expires_at && new Date(token.expires_at) <= new Date()) return `Expiré le ${when(token.expires_at)}`;
  return token.expires_at ? `Actif jusqu'au ${when(token.expires_at)}` : "Actif";
}

async function showTokens() {
  const tokens = await getJSON("/api/me/tokens");
  const rows = tokens.data.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.id = t.id;
    const active = !t.revoked_at && !(t.expires_at && new Date(t.expires_at) <= new Date());
    tr.innerHTML = `<td>${esc(t.name)}</td><td>${when(t.created_at)}</td><td>${when(t.last_used_at)}</td>`
      + `<td class="token-state">${esc(state(t))}</td><td>${active ? '<button type="button" class="revoke">Révoquer</button>' : ""}</td>`;
    tr.querySelector(".revoke")?.addEventListener("click", () => revoke(t).catch(showError));
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    tr.innerHTML = '<td colspan="5">Aucun jeton.</td>';
    rows.push(tr);
  }
  $("token-table").querySelector("tbody").replaceChildren(...rows);
}

async function revoke(token) {
  if (!confirm(`Révoquer le jeton « ${token.name} » ? Les scripts qui l'utilisent n'auront plus accès.`)) return;
  await sendJSON("DELETE", `/api/me/tokens/${token.id}`);
  await showTokens();
}

const showError = (e) => { $("token-error").textContent = `Erreur : ${e.detail ?? e.message}`; };

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("token-form");
  clearRefusal(form);
  $("token-error").textContent = "";
  const name = $("token-name").value.trim();
  if (!name) {
    const why = { field: "name", label: "Nom du jeton", msg: "donnez un nom au jeton (à quoi il sert)" };
    showRefusal(form, { message: `${why.label} : ${why.msg}`, fields: [why] }, $("token-error"), "Jeton non créé");
    return;
  }
  try {
    const created = await postJSON("/api/me/tokens", { name });
    $("token-value").textContent = created.token;
    $("token-new").hidden = false;
    $("token-name").value = "";
    await showTokens();
  } catch (e) {
    showRefusal(form, e, $("token-error"), "Jeton non créé");
  }
});

try {
  const me = await getJSON("/api/me");
  $("me-name").textContent = me.name;
  $("me-email").textContent = me.email;
  $("me-role").textContent = me.role_label;
  $("me-bindings").textContent = bindings(me, await bindingNames(me));
  await showTokens();
} catch (e) {
  showError(e);
} finally {
  document.body.dataset.ready = "true";
}
