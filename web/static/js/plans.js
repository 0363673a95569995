// Sector plans page: list a CSP's plans, launch a proposal and follow its job,
// show a plan's sectors on the map (no tiles) with their metrics, adopt a plan.
import { bindCspSelect, esc, fmt, followJob, getJSON, postForm, postJSON, refusal, sendJSON } from "./api.js";
import { clearRefusal, showRefusal } from "./forms.js";
import { ORIGIN_LABELS, PLAN_STATUSES, STATUS_LABELS, colour, communeName, devBar, deviationPct, drawTerritory, metricsSummary, pct, sectorLabel, unsignedPct, violationItems } from "./sectors.js";
import { $, addLegend, createMap, setStatus, showBaseMapLegend, statusError } from "./ui.js";

const STAGE_LABELS = {
  loading: "Chargement de la grille", atoms: "Regroupement des petites communes", seeds: "Choix des germes",
  balance: "Équilibrage des charges", shape: "Amélioration de la compacité", done: "Terminé",
};

// The exact mode's stage: "exact: meilleur plan : 712 m, borne : 689 m, écart 3,2 %".
const EXACT_STAGE = "exact: ";

const STATION_TYPES = ["commissariat", "bureau de police", "hôtel de police"];

const map = createMap();

let csp = null;
let territory = null;
let sectorLayer = null;
let changedLayer = null;
let compareLegend = null;  // says what the hatching means while a comparison is shown
const labelLayer = L.layerGroup().addTo(map);  // the sectors' names
let selectedPlan = null;
let plans = [];

async function showPlan(planId) {
  setStatus("Chargement du plan…");
  const plan = await getJSON(`/api/plans/${planId}`);
  selectedPlan = plan;
  $("adoption").hidden = true;
  document.querySelectorAll("#plan-list button").forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.planId) === plan.id)));
  sectorLayer?.remove();
  labelLayer.clearLayers();
  sectorLayer = L.geoJSON(plan.sectors, {
    style: (f) => ({ color: "#222", weight: 1.5, fillColor: colour(f.properties.sector), fillOpacity: 0.55, className: "sector" }),
    onEachFeature: (f, layer) => {
      const p = f.properties;
      sectorLabel(f, labelLayer);
      layer.bindPopup(`<strong>${esc(p.name)}</strong><br>Charge : ${fmt.int.format(p.workload)}` +
        `<br>Écart à la moyenne : ${pct(p.metrics.deviation)}<br>Compacité : ${fmt.dec2.format(p.metrics.polsby_popper)}` +
        `<br>Surface : ${fmt.dec1.format(p.metrics.area_km2)} km²`);
    },
  }).addTo(map);
  changedLayer?.remove();
  changedLayer = null;
  compareLegend?.remove();
  compareLegend = null;
  $("comparison").hidden = true;
  territory?.bringToFront();

  const m = plan.metrics;
  const tolerance = plan.parameters.tolerance ?? 0.05;
  $("plan-title").textContent = `${plan.name} (${STATUS_LABELS[plan.status]})`;
  $("adopt").disabled = plan.status === "adopted" || plan.status === "editing";
  $("adopt").textContent = plan.status === "adopted" ? "Plan adopté" : "Adopter ce plan";
  $("edit").textContent = plan.status === "editing" ? "Reprendre la modification" : "Modifier sur la carte";
  $("delete").hidden = plan.status === "adopted";
  $("plan-comment").textContent = plan.comment ? `Commentaire : ${plan.comment}` : "";
  $("plan-summary").innerHTML = metricsSummary(m, tolerance);
  const bound = plan.parameters.bound;
  $("plan-bound").textContent = bound
    ? `Distance au meilleur plan : ${bound.sentence}`
    : (plan.origin === "engine" ? "Distance au meilleur plan : borne non calculée" : "");
  $("sector-table").tBodies[0].innerHTML = m.sectors.map((s) =>
    `<tr data-sector="${s.sector}"><td><span class="swatch" style="background:${colour(s.sector)}"></span>${esc(s.name)}</td>` +
    `<td>${fmt.int.format(s.workload)}</td><td>${devBar(s.deviation, tolerance)}</td>` +
    `<td>${fmt.dec2.format(s.polsby_popper)}</td><td>${fmt.int.format(s.unit_count)}</td></tr>`).join("");
  $("plan-notes").innerHTML = violationItems(plan.violations, plan.notes);
  const others = plans.filter((p) => p.id !== plan.id && p.resolution === plan.resolution && p.units === plan.units);
  // An empty list says why: the comparison needs a plan on the same grid.
  $("compare-with").replaceChildren(...(others.length
    ? others.map((p) => new Option(`${p.name} (${PLAN_STATUSES[p.status]})`, p.id, false, p.id === plan.parent_id))
    : [new Option("aucune autre proposition sur la même grille", "")]));
  $("compare").disabled = !others.length;
  updateExportLinks();
  $("print").href = `/secteurs/${plan.id}/impression`;
  $("print-pdf").href = `/secteurs/${plan.id}/impression.pdf`;
  $("print-png").href = `/secteurs/${plan.id}/impression.png`;
  $("plan-detail").hidden = false;
  map.invalidateSize();
  map.fitBounds(sectorLayer.getBounds(), { padding: [10, 10] });
  setStatus("");
  document.body.dataset.plan = String(plan.id);
  history.replaceState(null, "", `/secteurs?csp=${csp.id}&plan=${plan.id}`);
}

function updateExportLinks() {
  if (!selectedPlan) return;
  $("export").href = `/api/plans/${selectedPlan.id}/export?format=${$("export-format").value}&crs=${$("export-crs").value}`;
}

// Plans stored before the p-median figure existed have none.
const optionalInt = { format: (v) => (v == null ? "—" : fmt.int.format(v)) };

// Changed cells on the map (hatched outline) and both plans' figures side by side.
async function compare() {
  const otherId = Number($("compare-with").value);
  const result = await getJSON(`/api/plans/${selectedPlan.id}/compare?with=${otherId}`);
  changedLayer?.remove();
  changedLayer = L.geoJSON(result.cells, {
    // Black hatching and a dashed black-and-white outline: no sector colour looks like it.
    style: { color: "#111", weight: 2.5, dashArray: "5 3", fillColor: "#111", fillOpacity: 1, className: "changed-cell" },
    onEachFeature: (f, layer) => layer.bindTooltip(
      `${f.properties.commune ? `Commune ${esc(communeName(f.properties.commune))} : ` : ""}${esc(result.plan.metrics.sectors[f.properties.sector].name)} ici, ` +
      `${esc(result.other.metrics.sectors[f.properties.other_sector].name)} dans l'autre plan`),
  }).addTo(map);
  const a = result.plan.metrics;
  const b = result.other.metrics;
  const rows = [
    ["Secteurs", a.k, b.k, fmt.int],
    ["Écart maximal", a.max_deviation, b.max_deviation, { format: unsignedPct }],
    ["Compacité moyenne", a.mean_polsby_popper, b.mean_polsby_popper, fmt.dec2],
    ["Communes coupées", a.communes_split, b.communes_split, fmt.int],
    ["Barrières traversées", a.barrier_edges_inside, b.barrier_edges_inside, fmt.int],
    ["Longueur des limites (km)", a.cut_length_m / 1000, b.cut_length_m / 1000, fmt.dec1],
    ["Distance moyenne au centre (p-médian, m)", a.pmedian_distance_m, b.pmedian_distance_m, optionalInt],
    ["Distance moyenne au point d'ancrage (m)", a.mean_distance_m, b.mean_distance_m, fmt.int],
    ["Secteurs contigus", a.contiguous ? "oui" : "non", b.contiguous ? "oui" : "non", { format: (v) => v }],
  ];
  $("comparison-title").textContent = `${fmt.int.format(result.changed_count)} cellule(s) changent de secteur ` +
    `(charge ${fmt.int.format(result.changed_workload)}), hachurées sur la carte`;
  compareLegend ??= addLegend(map);
  compareLegend.getContainer().innerHTML =
    '<div><i class="hatched"></i>Cellule qui change de secteur</div>';
  $("cmp-a").textContent = result.plan.name;
  $("cmp-b").textContent = result.other.name;
  $("comparison-table").tBodies[0].innerHTML = rows.map(([label, x, y, f]) =>
    `<tr><th scope="row">${label}</th><td>${f.format(x)}</td><td>${f.format(y)}</td></tr>`).join("");
  $("comparison").hidden = false;
}

// Files come through fetch, so that a refusal (no Chromium to print, a bad parameter…)
// is shown on the page instead of being saved as a file.
async function download(event) {
  event.preventDefault();
  const link = event.currentTarget;
  setStatus("Préparation du fichier…");
  try {
    const response = await fetch(link.href);
    if (!response.ok) throw await refusal(response);
    const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "export";
    const url = URL.createObjectURL(await response.blob());
    const save = Object.assign(document.createElement("a"), { href: url, download: name });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setStatus("");
  } catch (e) {
    setStatus(`Téléchargement impossible : ${e.message}`, true);
  }
}

async function startEditing() {
  const copy = await postJSON(`/api/plans/${selectedPlan.id}/edit`);
  location.href = `/secteurs/edition?plan=${copy.id}`;
}

async function deletePlan() {
  const what = selectedPlan.status === "editing" ? "cette copie de travail et ses modifications" : `le plan « ${selectedPlan.name} »`;
  if (!confirm(`Supprimer ${what} ?`)) return;
  await sendJSON("DELETE", `/api/plans/${selectedPlan.id}?version=${selectedPlan.version}`);
  await loadPlans();
}

async function loadPlans(selectId) {
  plans = (await getJSON(`/api/csp/${csp.id}/plans`)).data;
  const list = $("plan-list");
  if (!plans.length) {
    list.innerHTML = `<li class="hint">Aucun plan : lancez une proposition.</li>`;
    sectorLayer?.remove();
    $("plan-detail").hidden = true;
    return;
  }
  list.replaceChildren(...plans.map((p) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.planId = p.id;
    button.setAttribute("aria-pressed", "false");
    const warn = p.violation_count ? `<span class="badge warn">${p.violation_count} contrainte(s) non respectée(s)</span>` : "";
    button.innerHTML = `<span class="badge ${p.status}">${STATUS_LABELS[p.status]}</span>${warn}<strong>${esc(p.name)}</strong>` +
      `<small>${ORIGIN_LABELS[p.origin]} · ${p.k} secteurs · écart max ${deviationPct(p.max_deviation, p.parameters.tolerance ?? 0.05, { signed: false })} · ` +
      `compacité ${p.mean_polsby_popper == null ? "—" : fmt.dec2.format(p.mean_polsby_popper)} · ` +
      `${new Date(p.created_at).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" })}</small>`;
    button.addEventListener("click", () => showPlan(p.id).catch(statusError));
    item.append(button);
    return item;
  }));
  const chosen = plans.some((p) => p.id === selectId) ? selectId : plans[0].id;
  await showPlan(chosen);
}

// Follow a proposal until it ends; its plan's id, or null when it was stopped.
async function followProposal(job) {
  $("job").hidden = false;
  const cancel = $("job-cancel");
  cancel.hidden = false;
  cancel.disabled = false;
  cancel.onclick = () => {
    cancel.disabled = true;
    postJSON(`/api/jobs/${job.id}/cancel`, {}).catch(statusError);
  };
  try {
    job = await followJob(job, (j) => {
      $("job-progress").value = j.progress;
      $("job-stage").textContent = j.status === "cancelling"
        ? "Arrêt en cours…"
        : j.stage?.startsWith(EXACT_STAGE)
          ? `Recherche exacte : ${j.stage.slice(EXACT_STAGE.length)} (${Math.round(j.progress * 100)} % du temps)`
          : `${STAGE_LABELS[j.stage] ?? "En attente"}… ${Math.round(j.progress * 100)} %`;
    });
  } finally {
    cancel.hidden = true;
  }
  $("job-progress").value = job.progress;
  if (job.status === "cancelled") {
    $("job-stage").textContent = "Proposition arrêtée : rien n'a été enregistré.";
    return null;
  }
  if (job.status === "failed") {
    $("job-stage").textContent = "Échec de la proposition";
    // The job keeps the French sentence; it starts with the field's label when it names one.
    const error = new Error(job.error);
    error.fields = fieldsOfJobError(job.error);
    throw error;
  }
  $("job-stage").textContent = "Proposition enregistrée en brouillon.";
  return job.plan_id;
}

// The grid select's values are "units:resolution" (H3 cells or street blocks).
const gridOf = (value) => {
  const [units, resolution] = String(value).split(":");
  return { units, resolution: Number(resolution) };
};
const gridLabel = (g) => g.units === "blocks"
  ? `Îlots (rues), résolution ${g.resolution} — ${fmt.int.format(g.cell_count)} îlots`
  : `Résolution ${g.resolution} — ${fmt.int.format(g.cell_count)} cellules`;

// A failed job says its field by its label (« Nombre de secteurs : … »): the field of the
// form with that label gets the message.
function fieldsOfJobError(text) {
  for (const label of $("propose-form").querySelectorAll("label[for]")) {
    const name = label.textContent.trim();
    const input = $(label.htmlFor);
    if (name && input?.name && text.startsWith(`${name} : `)) return [{ field: input.name, msg: text.slice(name.length + 3) }];
  }
  return [];
}

async function propose(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  clearRefusal($("propose-form"));
  const form = new FormData($("propose-form"));
  const body = {
    k: Number(form.get("k")),
    tolerance: Number(form.get("tolerance")) / 100,
    method: form.get("method"),
    ...(form.get("method") === "exact" ? { time_limit: Number(form.get("time_limit")) } : {}),
    objective: form.get("objective"),
    objective_weight: Number(form.get("objective_weight") ?? 50) / 100,
    ...gridOf(form.get("resolution")),
    seed: Number(form.get("seed")),
    weights: Object.fromEntries(["population", "poor_households", "social_housing", "problems"].map((v) => [v, Number(form.get(v))])),
    seed_point_types: form.get("station_seeds") ? STATION_TYPES : [],
    whole_commune_population: Number(form.get("whole_commune_population")),
  };
  $("propose").disabled = true;
  try {
    const job = await postJSON(`/api/csp/${csp.id}/plans`, body);
    const planId = await followProposal(job);
    if (planId !== null) await loadPlans(planId);
  } catch (e) {
    showRefusal($("propose-form"), e, $("form-error"), "Proposition impossible");
  } finally {
    $("propose").disabled = false;
  }
}

async function importPlan(event) {
  event.preventDefault();
  $("import-error").textContent = "";
  clearRefusal($("import-form"));
  const form = new FormData($("import-form"));
  const grid = gridOf($("resolution").value);
  form.set("resolution", String(grid.resolution));
  form.set("units", grid.units);
  $("import").disabled = true;
  try {
    const plan = await postForm(`/api/csp/${csp.id}/plans/import`, form);
    await loadPlans(plan.id);
  } catch (e) {
    showRefusal($("import-form"), e, $("import-error"), "Import impossible");
  } finally {
    $("import").disabled = false;
  }
}

// -- adoption: the preview of what changes for each GPO, then the confirmation ----------
const MIN_OVERRIDE_REASON = 5;
let adoption = null;
const km2 = (v) => `${fmt.dec2.format(v)} km²`;

async function showAdoption() {
  const preview = await getJSON(`/api/plans/${selectedPlan.id}/adoption`);
  adoption = preview;
  const rows = preview.sectors.map((s) =>
    `<tr data-sector="${s.sector}"><th scope="row">${s.new_gpo ? "<em>nouveau GPO</em>" : esc(s.gpo_name)}</th>` +
    `<td><span class="swatch" style="background:${colour(s.sector)}"></span>${esc(s.name)}` +
    `${s.previous_sector != null && s.previous_sector !== s.sector ? ` (était n° ${s.previous_sector + 1})` : ""}</td>` +
    `<td>${km2(s.kept_km2)}</td><td>${km2(s.gained_km2)}</td><td>${km2(s.lost_km2)}</td>` +
    `<td>${fmt.int.format(s.problems_in)}</td><td>${fmt.int.format(s.problems_out)}</td></tr>`);
  const retired = preview.retired.map((r) =>
    `<tr class="retired" data-gpo="${r.gpo_id}"><th scope="row">${esc(r.gpo_name)}</th><td><em>GPO sans territoire</em> (désactivé, historique conservé)</td>` +
    `<td>${km2(0)}</td><td>${km2(0)}</td><td>${km2(r.lost_km2)}</td><td>0</td><td>${fmt.int.format(r.problems_out)}</td></tr>`);
  $("adoption-table").tBodies[0].innerHTML = [...rows, ...retired].join("");
  $("adoption-matching").textContent = `${preview.matching} ${fmt.int.format(preview.problems_moving)} problématique(s) ouverte(s) changent de GPO.`;
  $("adoption-thematic").innerHTML = preview.thematic.map((t) =>
    `<li>${esc(t.gpo_name)} (thématique) : secteurs ${t.sectors_before.map((s) => s + 1).join(", ") || "aucun"} → ${t.sectors_after.map((s) => s + 1).join(", ") || "aucun"}</li>`).join("");
  $("adoption-override").hidden = !preview.override_required;
  $("adoption-violations").innerHTML = preview.violations.map((v) => `<li>${esc(v.message)}</li>`).join("");
  $("override-reason").required = preview.override_required;
  $("override-reason").value = "";
  $("adoption-error").textContent = "";
  $("adoption").hidden = false;
  $("adoption-confirm").focus();
}

async function confirmAdoption() {
  const reason = $("override-reason").value.trim();
  clearRefusal($("adoption"));
  $("adoption-error").textContent = "";
  if (adoption.override_required && reason.length < MIN_OVERRIDE_REASON) {
    const why = { field: "override_reason", label: "Motif de la dérogation", msg: `indiquez-le (au moins ${MIN_OVERRIDE_REASON} caractères)` };
    showRefusal($("adoption"), { message: `${why.label} : ${why.msg}`, fields: [why] }, $("adoption-error"), "Adoption impossible");
    return;
  }
  const body = { confirm: true, expected_adopted_plan_id: adoption.adopted_plan_id };
  if (adoption.override_required) body.override_reason = reason;
  try {
    await postJSON(`/api/plans/${adoption.plan_id}/adopt`, body);
  } catch (e) {
    if (e.status === 409) $("adoption-error").textContent = "Un autre plan a été adopté entre-temps : rechargez.";
    else showRefusal($("adoption"), e, $("adoption-error"), "Adoption impossible");
    return;
  }
  $("adoption").hidden = true;
  await loadPlans(adoption.plan_id);
}

async function showCsp(chosen) {
  csp = chosen;
  showBaseMapLegend(map, csp.id);  // the CSP's own base layers
  setStatus("Chargement…");
  const [outline, grids, communes, layers] = await Promise.all([
    getJSON(`/api/csp/${csp.id}`), getJSON(`/api/csp/${csp.id}/grids`), getJSON(`/api/communes?csp=${csp.id}`),
    getJSON(`/api/csp/${csp.id}/layers`),
  ]);
  // The grid's workload weights are the defaults of a new proposal.
  const weights = grids.data[0]?.parameters?.weights ?? {};
  $("w-population").value = weights.population ?? 1;
  $("w-poor").value = weights.poor_households ?? 0;
  $("w-social").value = weights.social_housing ?? 0;
  $("w-problems").value = weights.problems ?? 0;
  const hasPoints = layers.data.some((l) => l.kind === "points" && l.features_in_csp > 0);
  $("station-seeds").disabled = !hasPoints;
  $("station-seeds").checked = false;
  $("station-hint").textContent = hasPoints ? "" : "(aucune couche de points importée pour cette CSP)";
  territory?.remove();
  changedLayer?.remove();
  changedLayer = null;
  compareLegend?.remove();
  compareLegend = null;
  territory = drawTerritory(map, outline, communes, { csp: csp.id });
  sectorLayer?.remove();
  $("plan-detail").hidden = true;
  $("resolution").replaceChildren(...grids.data.map((g) => new Option(gridLabel(g), `${g.units}:${g.resolution}`)));
  $("propose").disabled = !grids.count;
  if (!grids.count) $("form-error").textContent = "Aucune grille pour cette CSP : construisez-la d'abord (psq grid build).";
  await loadPlans(Number(new URLSearchParams(location.search).get("plan")) || undefined);
  setStatus("");
  document.body.dataset.ready = "true";
}

async function main() {
  try {
    $("propose-form").addEventListener("submit", propose);
    // The time limit is the exact mode's only: shown for it.
    const showExact = () => document.querySelectorAll(".exact-only").forEach((e) => { e.hidden = $("method").value !== "exact"; });
    $("method").addEventListener("change", showExact);
    showExact();
    $("objective").addEventListener("change", () => { $("objective-weight").disabled = $("objective").value !== "mix"; });
    $("import-form").addEventListener("submit", importPlan);
    $("adopt").addEventListener("click", () => showAdoption().catch(statusError));
    $("adoption-confirm").addEventListener("click", () => confirmAdoption().catch(statusError));
    $("adoption-cancel").addEventListener("click", () => { $("adoption").hidden = true; });
    $("edit").addEventListener("click", () => startEditing().catch(statusError));
    $("compare").addEventListener("click", () => compare().catch(statusError));
    $("delete").addEventListener("click", () => deletePlan().catch(statusError));
    $("export-format").addEventListener("change", updateExportLinks);
    for (const id of ["export", "print-pdf", "print-png"]) $(id).addEventListener("click", download);
    $("export-crs").addEventListener("change", updateExportLinks);
    if (!(await bindCspSelect($("csp-select"), showCsp, statusError))) {
      setStatus("Aucune circonscription importée.", true);
    }
  } catch (e) {
    setStatus(`Impossible de charger la page : ${e.message}`, true);
  }
}

main();
