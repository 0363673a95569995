// Espace commune, its contrats de sécurité intégrée (issue 18): each contract spanning the
// commune with its communes, dates, four objectives (actions, lead partner, indicators),
// its diagnostic partagé (A4 PDF) and its versions; the état-major (can("contract_write"))
// creates one over communes chosen by name and changes it, each save a new version. Each
// objective's actions are rows: an intitulé, a lead partner chosen among the CSP's partner
// organisations (GET /api/csi/partners) or typed when none fits (« Autre »), indicators
// added and removed one by one. A refusal is said under the field it names (forms.js:
// the inputs are named as the API names them, « objectives.3.actions.1.title »). A
// change made meanwhile by someone else (409) is said in French and the list reloaded.
import { day, esc, getJSON, isoDay, postJSON, sendJSON } from "./api.js";
import { $, can } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const WRITES = can("contract_write");
const OTHER = "__other__";  // the lead partner's option « Autre » (typed in a text input)
const STALE = "Ce contrat a été modifié entre-temps par quelqu'un d'autre : la liste est rechargée, refaites votre modification.";
const time = (iso) => new Date(iso).toLocaleString("fr-FR", { timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "short" });

// Who saved a version, from the audit trail's actor (« account:12 », « cli:demo »…).
const who = (actor) => {
  const account = actor.match(/^account:(\d+)$/)?.[1];
  if (account) return `par le compte n° ${account}`;
  return actor.startsWith("cli:") ? `en ligne de commande (${esc(actor.slice(4))})` : `par ${esc(actor)}`;
};

let contracts = [];
let editing = null;
let reload = async () => {};

// « en vigueur depuis le … », « en vigueur à partir du … » (not begun), « échu le … ».
function period(c) {
  const until = c.end_on ? `, jusqu'au ${day(c.end_on)}` : "";
  if (c.in_force) return `en vigueur${c.start_on ? ` depuis le ${day(c.start_on)}` : ""}${until}`;
  if (c.start_on && c.start_on > isoDay()) return `en vigueur à partir du ${day(c.start_on)}${until}`;
  return c.end_on && c.end_on < isoDay() ? `échu le ${day(c.end_on)}` : "hors vigueur (dates à préciser)";
}

export async function showContracts(code) {
  contracts = (await getJSON(`/api/csi?commune=${code}`)).data;
  $("csi-status").textContent = "";
  $("dash-contracts").innerHTML = contracts.map((c) => {
    const objectives = c.objectives.map((o) => `${esc(o.label)} : ${o.actions.length} action(s)`).join(" · ");
    const actions = c.objectives.filter((o) => o.actions.length).map((o) =>
      `<li>${esc(o.label)}<ul>${o.actions.map(actionText).join("")}</ul></li>`).join("");
    return `<li data-id="${c.id}"><strong>${esc(c.name)}</strong> — ${period(c)}` +
      `${c.synthetic ? " <em>(fictif)</em>" : ""} · <a href="/csi/${c.id}/diagnostic.pdf">diagnostic partagé (PDF)</a>` +
      `<br><span class="hint">Communes : ${c.communes.map((k) => esc(k.name)).join(", ")}` +
      `${c.intercommunalite ? ` (${esc(c.intercommunalite)})` : ""} · version ${c.version}<br>${objectives}</span>` +
      (actions ? `<ul class="csi-objectives">${actions}</ul>` : "") +
      `<details class="csi-versions" data-id="${c.id}"><summary>Versions</summary><ul></ul></details>` +
      (WRITES ? `<span class="item-actions"><button type="button" class="csi-edit" data-id="${c.id}">Modifier</button></span>` : "") +
      "</li>";
  }).join("") || "<li class=\"hint\">Aucun contrat de sécurité intégrée.</li>";
  for (const details of $("dash-contracts").querySelectorAll(".csi-versions")) {
    details.addEventListener("toggle", () => { if (details.open) showVersions(details).catch((e) => { $("csi-status").textContent = e.message; }); });
  }
}

async function showVersions(details) {
  const versions = await getJSON(`/api/csi/${details.dataset.id}/versions`);
  details.querySelector("ul").innerHTML = versions.data.slice().reverse().map((v) =>
    `<li data-version="${v.version}">Version ${v.version} — ${time(v.at)} ${who(v.actor)} : ` +
    `${esc(v.snapshot.name)}, ${(v.snapshot.commune_codes ?? []).length} commune(s)</li>`).join("");
}

// An action as the list says it: « intitulé — pilote : … — indicateurs : a ; b ».
const actionText = (a) => `<li class="csi-action-item">${esc(a.title)}${a.lead_partner ? ` — pilote : ${esc(a.lead_partner)}` : ""}` +
  `${a.indicators.length ? ` — indicateurs : ${a.indicators.map(esc).join(" ; ")}` : ""}</li>`;

// -- the action rows of the editor --------------------------------------------------------
let partners = [];  // the organisations' names the lead partner is chosen among

function addIndicator(list, text = "") {
  const row = $("csi-indicator-template").content.firstElementChild.cloneNode(true);
  row.querySelector(".csi-indicator-text").value = text;
  list.append(row);
  return row;
}

function addAction(objective, action = null) {
  const row = $("csi-action-template").content.firstElementChild.cloneNode(true);
  row.querySelector(".csi-title").value = action?.title ?? "";
  const lead = row.querySelector(".csi-lead");
  const known = action?.lead_partner && partners.includes(action.lead_partner);
  lead.replaceChildren(new Option("— sans pilote —", ""), ...partners.map((name) => new Option(name, name)),
    new Option("Autre (à saisir)…", OTHER));
  // a lead partner that is not (or no longer) among the CSP's partners stays, typed
  lead.value = action?.lead_partner ? (known ? action.lead_partner : OTHER) : "";
  row.querySelector(".csi-lead-other").value = action?.lead_partner && !known ? action.lead_partner : "";
  row.querySelector(".csi-lead-other-label").hidden = lead.value !== OTHER;
  const indicators = row.querySelector(".csi-indicators ul");
  for (const text of action?.indicators?.length ? action.indicators : [""]) addIndicator(indicators, text);
  objective.querySelector(".csi-actions").append(row);
  return row;
}

// The objectives as the API takes them, the four in order; blank actions and indicators
// are left out. Each input sent is named as the API names its field, so that a refusal
// is said under it.
function objectivesOf(form) {
  for (const input of form.querySelectorAll(".csi-objective [name]")) input.removeAttribute("name");
  return [...form.querySelectorAll(".csi-objective")].map((fieldset, i) => {
    const actions = [];
    for (const row of fieldset.querySelectorAll(".csi-action")) {
      const title = row.querySelector(".csi-title");
      const lead = row.querySelector(".csi-lead");
      const other = row.querySelector(".csi-lead-other");
      const leadInput = lead.value === OTHER ? other : lead;
      const texts = [...row.querySelectorAll(".csi-indicator-text")].filter((t) => t.value.trim());
      const leadPartner = leadInput.value.trim() || null;
      if (!title.value.trim() && !leadPartner && !texts.length) continue;
      const at = `objectives.${i}.actions.${actions.length}`;
      title.name = `${at}.title`;
      leadInput.name = `${at}.lead_partner`;
      texts.forEach((t, k) => { t.name = `${at}.indicators.${k}`; });
      actions.push({ title: title.value.trim(), lead_partner: leadPartner, indicators: texts.map((t) => t.value.trim()) });
    }
    return { objective: fieldset.dataset.objective, actions };
  });
}

function bindActionRows(form) {
  for (const fieldset of form.querySelectorAll(".csi-objective")) {
    fieldset.querySelector(".csi-add-action").addEventListener("click", () => {
      addAction(fieldset).querySelector(".csi-title").focus();
    });
  }
  form.addEventListener("click", (e) => {
    const row = e.target.closest(".csi-action");
    if (e.target.classList.contains("csi-remove-action")) {
      const fieldset = row.closest(".csi-objective");
      row.remove();
      fieldset.querySelector(".csi-add-action").focus();
    } else if (e.target.classList.contains("csi-add-indicator")) {
      addIndicator(row.querySelector(".csi-indicators ul")).querySelector("input").focus();
    } else if (e.target.classList.contains("csi-remove-indicator")) {
      e.target.closest(".csi-indicator").remove();
      row.querySelector(".csi-add-indicator").focus();
    }
  });
  form.addEventListener("change", (e) => {
    if (!e.target.classList.contains("csi-lead")) return;
    const label = e.target.closest(".csi-action").querySelector(".csi-lead-other-label");
    label.hidden = e.target.value !== OTHER;
    if (!label.hidden) label.querySelector("input").focus();
  });
}

export function initContracts(communesOf, currentCode, refresh) {
  reload = refresh;
  if (!WRITES) return;
  let epci = null;  // the current commune's properties, when they name its intercommunalité
  const close = () => { $("contract-editor").hidden = true; };
  bindActionRows($("contract-form"));
  const open = async (c) => {
    editing = c;
    $("contract-form").reset();
    clearRefusal($("contract-form"));
    $("csi-result").textContent = "";
    $("csi-status").textContent = "";
    $("contract-editor-title").textContent = c ? `Modifier le contrat « ${c.name} » (version ${c.version})` : "Nouveau contrat";
    const chosen = new Set(c ? c.communes.map((k) => k.code) : [currentCode()]);
    $("csi-communes").replaceChildren(...communesOf().map((f) =>
      new Option(f.properties.name, f.properties.code, false, chosen.has(f.properties.code))));
    if (c) {
      $("csi-name").value = c.name;
      $("csi-interco").value = c.intercommunalite ?? "";
      $("csi-signed").value = c.signed_on ?? "";
      $("csi-start").value = c.start_on ?? "";
      $("csi-end").value = c.end_on ?? "";
    }
    // the lead partners: the organisations of the contract's CSP (a new one: the commune's)
    const csp = c?.csp_id ?? communesOf().find((f) => f.properties.code === currentCode())?.properties.csp_ids[0];
    const found = csp ? (await getJSON(`/api/csi/partners?csp=${csp}`)).data : [];
    partners = [...new Set(found.map((p) => p.organisation))];
    for (const list of $("contract-form").querySelectorAll(".csi-actions")) list.replaceChildren();
    for (const o of c?.objectives ?? []) {
      for (const a of o.actions) addAction($(`csi-objective-${o.objective}`), a);
    }
    $("csi-communes-hint").textContent = `${chosen.size} commune(s) choisie(s).`;
    // All the communes of the current commune's intercommunalité, when the data give it.
    const here = communesOf().find((f) => f.properties.code === currentCode())?.properties;
    epci = here?.epci_code ? here : null;
    $("csi-epci").hidden = !epci;
    if (epci) $("csi-epci").textContent = `Toutes les communes de l'intercommunalité (${epci.epci_name})`;
    $("contract-editor").hidden = false;
    $("csi-name").focus();
  };
  const counted = () => {
    $("csi-communes-hint").textContent = `${$("csi-communes").selectedOptions.length} commune(s) choisie(s).`;
  };
  $("csi-communes").addEventListener("change", counted);
  $("csi-epci").addEventListener("click", () => {
    const members = new Set(communesOf().filter((f) => f.properties.epci_code === epci.epci_code).map((f) => f.properties.code));
    for (const option of $("csi-communes").options) option.selected = members.has(option.value);
    if (!$("csi-interco").value.trim()) $("csi-interco").value = epci.epci_name;
    counted();
    $("csi-communes-hint").textContent += ` (celles de ${epci.epci_name} dans votre périmètre)`;
  });
  const failed = (err) => { $("csi-status").textContent = err.message; };
  $("contract-add").addEventListener("click", () => open(null).catch(failed));
  $("csi-cancel").addEventListener("click", close);
  $("dash-contracts").addEventListener("click", (e) => {
    if (!e.target.classList.contains("csi-edit")) return;
    open(contracts.find((c) => c.id === Number(e.target.dataset.id))).catch(failed);
  });
  $("contract-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = $("contract-form");
    clearRefusal(form);
    $("csi-result").textContent = "";
    const body = {
      name: $("csi-name").value.trim(),
      intercommunalite: $("csi-interco").value.trim() || null,
      commune_codes: [...$("csi-communes").selectedOptions].map((o) => o.value),
      signed_on: $("csi-signed").value || null,
      start_on: $("csi-start").value || null,
      end_on: $("csi-end").value || null,
      objectives: objectivesOf(form),
    };
    if (!body.name) {
      const why = { field: "name", label: "Intitulé", msg: "donnez un intitulé au contrat" };
      showRefusal(form, { message: `${why.label} : ${why.msg}`, fields: [why] }, $("csi-result"), "Contrat non enregistré");
      return;
    }
    try {
      const saved = editing
        ? await sendJSON("PATCH", `/api/csi/${editing.id}`, { ...body, version: editing.version })
        : await postJSON("/api/csi", body);
      close();
      await reload();
      $("csi-status").textContent = `Contrat « ${saved.name} » enregistré (version ${saved.version}).`;
    } catch (err) {
      if (err.code === "stale_version") {
        close();
        await reload();
        $("csi-status").textContent = STALE;
        return;
      }
      showRefusal(form, err, $("csi-result"), "Contrat non enregistré");
    }
  });
}
