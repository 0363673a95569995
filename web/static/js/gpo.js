// GPO: the GPOs of the caller's perimeter (GET /api/csp/{id}/gpos for each CSP), late ones
// first; the état-major creates a thematic GPO (POST /api/csp/{id}/gpos).
import { day, esc, getJSON, postJSON } from "./api.js";
import { $, PALETTE, can } from "./ui.js";
import { clearRefusal } from "./forms.js";
import { cadenceLabel, clearErrors, refusedField, showGpoRefusal, stateBadge } from "./gpo_common.js";

let csps = [];

function row(g) {
  const tr = document.createElement("tr");
  tr.dataset.gpo = g.id;
  if (g.overdue) tr.classList.add("overdue");
  const next = g.next_meeting_on ? day(g.next_meeting_on) : `à planifier (avant le ${day(g.next_meeting_due)})`;
  const chief = g.chief_name ? `${esc(g.chief_grade ?? "")} ${esc(g.chief_name)}` : '<span class="hint">non renseigné</span>';
  tr.innerHTML = `<th scope="row"><a href="/gpo/${g.id}">${esc(g.name)}</a></th>`
    + `<td>${PALETTE.gpo_kinds[g.kind] ?? esc(g.kind)}</td><td>${chief}</td>`
    + `<td>${cadenceLabel(g.cadence_days)}</td><td class="state">${stateBadge(g)}</td><td>${next}</td>`
    + `<td class="num">${g.open_problems}</td><td class="num">${g.actions_due}</td>`
    + `<td class="num${g.actions_overdue ? " overdue" : ""}">${g.actions_overdue}</td>`;
  return tr;
}

async function showGpos() {
  const lists = await Promise.all(csps.map((c) => getJSON(`/api/csp/${c.id}/gpos`)));
  const gpos = lists.flatMap((l) => l.data).filter((g) => g.active);
  gpos.sort((a, b) => (b.overdue - a.overdue) || a.next_meeting_due.localeCompare(b.next_meeting_due) || a.name.localeCompare(b.name));
  const body = $("gpo-table").querySelector("tbody");
  body.replaceChildren(...gpos.map(row));
  if (!gpos.length) body.innerHTML = '<tr><td colspan="9" class="hint">Aucun GPO dans votre périmètre : ils sont créés à l\'adoption d\'un plan de secteurs.</td></tr>';
}

async function showSectors() {
  const csp = Number($("c-csp").value);
  const plans = await getJSON(`/api/csp/${csp}/plans`);
  const adopted = plans.data.find((p) => p.status === "adopted");
  const box = $("c-sectors");
  if (!adopted) {
    box.innerHTML = '<span class="hint">Aucun plan de secteurs adopté dans cette CSP.</span>';
    return;
  }
  const plan = await getJSON(`/api/plans/${adopted.id}`);
  box.replaceChildren(...plan.sectors.features.map((f) => {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" name="sector" value="${f.properties.sector}"> ${esc(f.properties.name)}`;
    return label;
  }));
}

async function setUpCreation() {
  $("create-section").hidden = false;
  const taxonomy = await getJSON("/api/taxonomy");
  $("c-csp").replaceChildren(...csps.map((c) => new Option(c.name, c.id)));
  $("c-theme").replaceChildren(...Object.entries(taxonomy.themes).map(([code, label]) => new Option(label, code)));
  $("c-categories").replaceChildren(...Object.entries(taxonomy.categories).map(([code, label]) => {
    const item = document.createElement("label");
    item.innerHTML = `<input type="checkbox" name="category" value="${esc(code)}"> ${esc(label)}`;
    return item;
  }));
  $("c-csp").addEventListener("change", () => showSectors().catch((e) => { $("c-error").textContent = e.message; }));
  await showSectors();
  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = $("create-form");
    clearErrors($("c-error"));
    clearRefusal(form);
    const checked = (name) => [...document.querySelectorAll(`#create-form input[name=${name}]:checked`)].map((i) => i.value);
    const body = {
      name: $("c-name").value.trim(),
      theme: $("c-theme").value,
      cadence_days: Number($("c-cadence").value),
      sectors: checked("sector").map(Number),
      categories: checked("category"),
    };
    if (!body.name) { showGpoRefusal(form, refusedField("name", "Nom", "obligatoire"), $("c-error"), "GPO non créé"); return; }
    try {
      const created = await postJSON(`/api/csp/${$("c-csp").value}/gpos`, body);
      location.assign(`/gpo/${created.id}`);
    } catch (e) {
      showGpoRefusal(form, e, $("c-error"), "GPO non créé");
    }
  });
}

try {
  csps = (await getJSON("/api/csp")).data;
  await showGpos();
  if (can("gpo_create") && csps.length) await setUpCreation();
} catch (e) {
  $("error").textContent = `GPO indisponibles : ${e.detail ?? e.message}`;
} finally {
  document.body.dataset.ready = "true";
}
