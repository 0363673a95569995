// Journal d'audit (direction only): search the trail (GET /api/audit-log) by actor,
// object, action and period, page through it, export the same search as CSV.
import { esc, getJSON } from "./api.js";
import { $ } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const PAGE = 50;
const ACTIONS = {
  create: "création", update: "modification", delete: "suppression", import: "import", build: "construction",
  adopt: "adoption", edit: "ouverture en édition", lock: "verrouillage", save_version: "enregistrement",
  reoptimise: "ré-optimisation", transition: "changement d'étape", evaluate: "évaluation", upload: "dépôt",
  download: "téléchargement", export: "export", login: "connexion", login_failed: "connexion refusée",
  login_throttled: "connexion suspendue", logout: "déconnexion", load_synthetic: "données fictives",
  start_editing: "copie de travail", cancel: "annulation", close: "clôture", decide: "décision",
  denounce: "dénonciation", invite: "invitation", revoke: "révocation",
};
// The objects the trail names (api/services/audit_log.record_write's `entity`), in French.
const ENTITIES = {
  account: "compte", action: "action", addresses: "adresses", alert_preference: "préférence d'alerte",
  api_token: "jeton d'accès", audit_document: "document d'étude", audit_request: "demande d'étude",
  convention: "convention", csi_contract: "contrat de sécurité intégrée", csp: "circonscription (CSP)",
  gpo: "GPO", grid: "grille", intervention: "intervention", job: "calcul", layer: "couche",
  meeting: "réunion", partner: "partenaire", plan: "plan de secteurs", problem: "problématique",
  qpv_list: "liste des QPV", referent: "référent", report: "bilan",
};
// The fields in words (geo.messages.FIELD_LABELS, written by the page).
const FIELDS = JSON.parse(document.querySelector("meta[name=psq-field-labels]")?.content ?? "{}");
const labelled = (labels, code) => labels[code] ?? code;
let offset = 0;
let names = new Map(); // "account:<id>" → e-mail

const when = (iso) => new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "medium" });
const who = (actor) => {
  if (names.has(actor)) return names.get(actor);
  if (actor === "anonymous") return "anonyme";
  if (actor.startsWith("cli:")) return `ligne de commande (${actor.slice(4)})`;
  return actor;
};

function filters() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData($("journal-form"))) if (String(value).trim()) params.set(key, String(value).trim());
  return params;
}

// A value of the trail as a person reads it: oui / non, « — » for none, a list as its
// items, an object as « clé : valeur » pairs (never raw JSON).
const shown = (value) => {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "oui" : "non";
  if (Array.isArray(value)) return value.length ? value.map(shown).join(", ") : "aucun";
  if (typeof value === "object") {
    return `(${Object.entries(value).map(([k, v]) => `${labelled(FIELDS, k)} : ${shown(v)}`).join(", ")})`;
  }
  return String(value);
};

function changes(entry) {
  const parts = Object.entries(entry.changes ?? {}).map(
    ([field, [before, after]]) => `${esc(labelled(FIELDS, field))} : ${esc(shown(before))} → ${esc(shown(after))}`,
  );
  const detail = Object.entries(entry.detail ?? {}).map(([key, value]) => `${labelled(FIELDS, key)} : ${shown(value)}`);
  if (detail.length) parts.push(`<span class="hint">${esc(detail.join(" · "))}</span>`);
  return parts.join("<br>");
}

async function search() {
  $("journal-error").textContent = "";
  const params = filters();
  $("journal-csv").href = `/api/audit-log.csv?${params}`;
  params.set("limit", PAGE);
  params.set("offset", offset);
  const page = await getJSON(`/api/audit-log?${params}`);
  $("journal-table").querySelector("tbody").replaceChildren(...page.data.map((e) => {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${when(e.at)}</td><td>${esc(who(e.actor))}</td><td>${esc(e.address ?? "—")}</td>`
      + `<td>${esc(labelled(ACTIONS, e.action))}</td><td>${esc(labelled(ENTITIES, e.entity))}${e.entity_id ? `&nbsp;n°&nbsp;${esc(e.entity_id)}` : ""}</td>`
      + `<td class="journal-changes">${changes(e)}</td>`;
    return tr;
  }));
  const last = Math.min(offset + page.count, page.total);
  $("journal-count").textContent = page.total
    ? `Entrées ${offset + 1} à ${last} sur ${page.total}.`
    : "Aucune entrée pour cette recherche.";
  $("journal-prev").disabled = offset === 0;
  $("journal-next").disabled = last >= page.total;
}

const run = () => {
  clearRefusal($("journal-form"));
  return search().catch((e) => showRefusal($("journal-form"), e, $("journal-error"), "Recherche impossible"));
};

$("journal-form").addEventListener("submit", (event) => { event.preventDefault(); offset = 0; run(); });
$("journal-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); run(); });
$("journal-next").addEventListener("click", () => { offset += PAGE; run(); });

// The object and action filters: French names, the trail's codes as values.
const byLabel = (labels) => Object.entries(labels).sort(([, a], [, b]) => a.localeCompare(b, "fr"));
$("f-entity").append(...byLabel(ENTITIES).map(([code, label]) => new Option(label, code)));
$("f-action").append(...byLabel(ACTIONS).map(([code, label]) => new Option(label, code)));

try {
  const accounts = await getJSON("/api/accounts");
  names = new Map(accounts.data.map((a) => [`account:${a.id}`, a.email]));
  $("f-actor").append(...accounts.data.map((a) => new Option(a.email, `account:${a.id}`)));
  await search();
} catch (e) {
  $("journal-error").textContent = `Journal indisponible : ${e.detail ?? e.message}`;
} finally {
  document.body.dataset.ready = "true";
}
