// Journal d'audit (direction only): search the trail (GET /api/audit-log) by actor,
// object, action and period, page through it, export the same search as CSV.
import { day, esc, fmt, getJSON } from "./api.js";
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
// The fields in words (geo.messages.FIELD_LABELS) and their codes' values in words
// (geo.value_labels.VALUE_LABELS: "entity.field" or "field"), written by the page.
const meta = (name) => JSON.parse(document.querySelector(`meta[name=${name}]`)?.content ?? "{}");
const FIELDS = meta("psq-field-labels");
const VALUES = meta("psq-value-labels");
const labelled = (labels, code) => labels[code] ?? code;
// A field's name: the object's own (« Nature de la couche »), else the field's.
const fieldName = (entity, field) => FIELDS[`${entity}.${field}`] ?? labelled(FIELDS, field);
// The fields naming other rows by their id, and what the row is: its name when read
// below (readNames), else « n° 3 ».
const ROWS = {
  problem_id: "problématique", action_id: "action", plan_id: "plan", previous_plan_id: "plan",
  from_plan: "plan", partner_id: "partenaire", lead_partner_id: "partenaire", partner_ids: "partenaire",
  invited_partner_ids: "partenaire", invited: "partenaire", referent_id: "référent", duplicate_of: "demande", meeting_id: "réunion",
  gpo_id: "GPO", gpo_ids: "GPO", gpos_retired: "GPO", csp_id: "CSP", csp_ids: "CSP", account_id: "compte",
};
// The fields naming communes by their INSEE code (a count of communes is a number).
const COMMUNE_FIELDS = new Set(["commune_code", "commune_codes", "communes"]);
let offset = 0;
let names = new Map(); // "account:<id>" → e-mail
// The rows the trail names, by what they are and their id: "CSP:1" → "Belfort", a commune's
// INSEE code → its name (read once, as far as the direction's perimeter goes).
const rowNames = new Map();

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

// A value of the trail as a person reads it: a code in words, oui / non, « — » for none,
// a date in French, another row by its name or number, a list as its items, an object as
// « clé : valeur » pairs (never raw JSON).
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
function shown(value, entity, field) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "oui" : "non";
  if (Array.isArray(value)) return value.length ? value.map((v) => shown(v, entity, field)).join(", ") : "aucun";
  if (typeof value === "object") {
    return `(${Object.entries(value).map(([k, v]) => `${fieldName(entity, k)} : ${shown(v, entity, k)}`).join(", ")})`;
  }
  const words = (VALUES[`${entity}.${field}`] ?? VALUES[field])?.[value];
  if (words !== undefined) return words;
  if (field in ROWS) return rowNames.get(`${ROWS[field]}:${value}`) ?? `n° ${value}`;
  if (COMMUNE_FIELDS.has(field) && typeof value === "string") return rowNames.get(`commune:${value}`) ?? value;
  if (typeof value === "number") return Number.isInteger(value) ? fmt.int.format(value) : fmt.dec2.format(value);
  if (ISO_DAY.test(value)) return day(value);
  if (ISO_TIME.test(value)) return when(value);
  return String(value);
}

function changes(entry) {
  const parts = Object.entries(entry.changes ?? {}).map(
    ([field, [before, after]]) => `${esc(fieldName(entry.entity, field))} : ${esc(shown(before, entry.entity, field))} → ${esc(shown(after, entry.entity, field))}`,
  );
  const detail = Object.entries(entry.detail ?? {}).map(([key, value]) => `${fieldName(entry.entity, key)} : ${shown(value, entry.entity, key)}`);
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

// The names of the rows the trail mentions: the CSPs, their GPOs, partners and communes.
async function readNames() {
  const csps = (await getJSON("/api/csp")).data;
  for (const csp of csps) {
    rowNames.set(`CSP:${csp.id}`, csp.name);
    const [gpos, partners, communes] = await Promise.all([
      getJSON(`/api/csp/${csp.id}/gpos`),
      getJSON(`/api/csp/${csp.id}/partners`),
      getJSON(`/api/communes?csp=${csp.id}`),
    ]);
    for (const g of gpos.data) rowNames.set(`GPO:${g.id}`, `${g.name} (${csp.name})`);
    for (const p of partners.data) rowNames.set(`partenaire:${p.id}`, p.organisation);
    for (const f of communes.features) rowNames.set(`commune:${f.properties.code}`, `${f.properties.name} (${f.properties.code})`);
  }
}

try {
  const accounts = await getJSON("/api/accounts");
  names = new Map(accounts.data.map((a) => [`account:${a.id}`, a.email]));
  for (const a of accounts.data) rowNames.set(`compte:${a.id}`, a.email);
  await readNames().catch(() => {});  // without them, the rows are said by their number
  $("f-actor").append(...accounts.data.map((a) => new Option(a.email, `account:${a.id}`)));
  await search();
} catch (e) {
  $("journal-error").textContent = `Journal indisponible : ${e.detail ?? e.message}`;
} finally {
  document.body.dataset.ready = "true";
}
