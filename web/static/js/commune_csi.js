// Espace commune, its contrats de sécurité intégrée (issue 18): each contract spanning the
// commune with its communes, dates, four objectives (actions, lead partner, indicators),
// its diagnostic partagé (A4 PDF) and its versions; the état-major (can("contract_write"))
// creates one over communes chosen by name and changes it, each save a new version. A
// change made meanwhile by someone else (409) is said in French and the list reloaded.
import { day, esc, getJSON, isoDay, postJSON, sendJSON } from "./api.js";
import { $, can } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const WRITES = can("contract_write");
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
    return `<li data-id="${c.id}"><strong>${esc(c.name)}</strong> — ${period(c)}` +
      `${c.synthetic ? " <em>(fictif)</em>" : ""} · <a href="/csi/${c.id}/diagnostic.pdf">diagnostic partagé (PDF)</a>` +
      `<br><span class="hint">Communes : ${c.communes.map((k) => esc(k.name)).join(", ")}` +
      `${c.intercommunalite ? ` (${esc(c.intercommunalite)})` : ""} · version ${c.version}<br>${objectives}</span>` +
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

// The actions of one objective's text area: « intitulé ; pilote ; indicateur | indicateur ».
const actionsOf = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
  const [title, lead, indicators] = l.split(";").map((x) => x.trim());
  return { title, lead_partner: lead || null, indicators: (indicators ?? "").split("|").map((x) => x.trim()).filter(Boolean) };
});
const actionsText = (actions) => actions.map((a) => [a.title, a.lead_partner ?? "", a.indicators.join(" | ")].join(" ; ").replace(/( ; )+$/, "")).join("\n");

export function initContracts(communesOf, currentCode, refresh) {
  reload = refresh;
  if (!WRITES) return;
  let epci = null;  // the current commune's properties, when they name its intercommunalité
  const close = () => { $("contract-editor").hidden = true; };
  const open = (c) => {
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
      for (const o of c.objectives) $(`csi-objective-${o.objective}`).value = actionsText(o.actions);
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
  $("contract-add").addEventListener("click", () => open(null));
  $("csi-cancel").addEventListener("click", close);
  $("dash-contracts").addEventListener("click", (e) => {
    if (!e.target.classList.contains("csi-edit")) return;
    open(contracts.find((c) => c.id === Number(e.target.dataset.id)));
  });
  $("contract-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = $("contract-form");
    clearRefusal(form);
    const body = {
      name: $("csi-name").value.trim(),
      intercommunalite: $("csi-interco").value.trim() || null,
      commune_codes: [...$("csi-communes").selectedOptions].map((o) => o.value),
      signed_on: $("csi-signed").value || null,
      start_on: $("csi-start").value || null,
      end_on: $("csi-end").value || null,
      objectives: [...form.querySelectorAll(".csi-objective")].map((t) => ({ objective: t.dataset.objective, actions: actionsOf(t.value) })),
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
