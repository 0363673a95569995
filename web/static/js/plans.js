// Sector plans page: list a CSP's plans, launch a proposal and follow its job,
// show a plan's sectors on the map (no tiles) with their metrics, adopt a plan.
import { bindCspSelect, esc, fmt, getJSON, postJSON } from "./api.js";

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
  "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf"];
const STATUS_LABELS = { adopted: "Adopté", draft: "Brouillon", archived: "Archivé" };
const ORIGIN_LABELS = { engine: "proposition", communes: "communes entières", import: "importé" };
const STAGE_LABELS = {
  loading: "Chargement de la grille", atoms: "Regroupement des petites communes", seeds: "Choix des germes",
  balance: "Équilibrage des charges", shape: "Amélioration de la compacité", done: "Terminé",
};

const $ = (id) => document.getElementById(id);
const statusBox = $("map-status");
const setStatus = (text, isError = false) => {
  statusBox.textContent = text;
  statusBox.hidden = !text;
  statusBox.classList.toggle("error", isError);
};
const colour = (sector) => PALETTE[sector % PALETTE.length];
const pct = (v) => (v == null ? "—" : fmt.pct1.format(v));

const map = L.map("map", { zoomSnap: 0.25, attributionControl: false });
map.setView([46.6, 2.4], 6);
L.control.scale({ imperial: false }).addTo(map);

let csp = null;
let outlineLayer = null;
let communeLayer = null;
let sectorLayer = null;
let selectedPlan = null;

function devBar(deviation, tolerance) {
  const scale = Math.max(0.25, tolerance * 3, Math.abs(deviation) * 1.1);
  const x = (d) => 50 + (d / scale) * 50;
  const out = Math.abs(deviation) > tolerance + 1e-9;
  return `<span class="devbar" aria-hidden="true"><span class="band" style="left:${x(-tolerance)}%;right:${100 - x(tolerance)}%"></span>` +
    `<span class="mark${out ? " out" : ""}" style="left:calc(${Math.min(100, Math.max(0, x(deviation)))}% - 1px)"></span></span>${pct(deviation)}`;
}

async function showPlan(planId) {
  setStatus("Chargement du plan…");
  const plan = await getJSON(`/api/plans/${planId}`);
  selectedPlan = plan;
  document.querySelectorAll("#plan-list button").forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.planId) === plan.id)));
  sectorLayer?.remove();
  sectorLayer = L.geoJSON(plan.sectors, {
    style: (f) => ({ color: "#222", weight: 1.5, fillColor: colour(f.properties.sector), fillOpacity: 0.55, className: "sector" }),
    onEachFeature: (f, layer) => {
      const p = f.properties;
      layer.bindTooltip(`${esc(p.name)}`, { permanent: true, direction: "center", className: "sector-label" });
      layer.bindPopup(`<strong>${esc(p.name)}</strong><br>Charge : ${fmt.int.format(p.workload)}` +
        `<br>Écart à la moyenne : ${pct(p.metrics.deviation)}<br>Compacité : ${fmt.dec2.format(p.metrics.polsby_popper)}` +
        `<br>Surface : ${fmt.dec1.format(p.metrics.area_km2)} km²`);
    },
  }).addTo(map);
  communeLayer?.bringToFront();
  outlineLayer?.bringToFront();

  const m = plan.metrics;
  const tolerance = plan.parameters.tolerance ?? 0.05;
  $("plan-title").textContent = `${plan.name} (${STATUS_LABELS[plan.status]})`;
  $("adopt").disabled = plan.status === "adopted";
  $("adopt").textContent = plan.status === "adopted" ? "Plan adopté" : "Adopter ce plan";
  const split = Object.entries(m.split_communes ?? {}).map(([c, n]) => `${c} (${n} secteurs)`).join(", ") || "aucune";
  $("plan-summary").textContent = `${m.k} secteurs · écart maximal ${pct(m.max_deviation).replace("+", "")} ` +
    `(tolérance ±${fmt.dec1.format(tolerance * 100)} %) · compacité moyenne ${fmt.dec2.format(m.mean_polsby_popper)} · ` +
    `${m.contiguous ? "tous contigus" : "secteur(s) non contigu(s)"} · communes coupées : ${split} · ` +
    `contiguïtés traversant une barrière : ${m.barrier_edges_inside}`;
  $("sector-table").tBodies[0].innerHTML = m.sectors.map((s) =>
    `<tr data-sector="${s.sector}"><td><span class="swatch" style="background:${colour(s.sector)}"></span>${esc(s.name)}</td>` +
    `<td>${fmt.int.format(s.workload)}</td><td>${devBar(s.deviation, tolerance)}</td>` +
    `<td>${fmt.dec2.format(s.polsby_popper)}</td><td>${fmt.int.format(s.unit_count)}</td></tr>`).join("");
  $("plan-notes").innerHTML = [
    ...plan.violations.map((v) => `<li class="violation">Contrainte non respectée — ${esc(v.message)}</li>`),
    ...plan.notes.map((n) => `<li>${esc(n)}</li>`),
  ].join("");
  $("plan-detail").hidden = false;
  map.invalidateSize();
  map.fitBounds(sectorLayer.getBounds(), { padding: [10, 10] });
  setStatus("");
  document.body.dataset.plan = String(plan.id);
}

async function loadPlans(selectId) {
  const plans = await getJSON(`/api/csp/${csp.id}/plans`);
  const list = $("plan-list");
  if (!plans.count) {
    list.innerHTML = `<li class="hint">Aucun plan : lancez une proposition.</li>`;
    return;
  }
  list.replaceChildren(...plans.data.map((p) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.planId = p.id;
    button.setAttribute("aria-pressed", "false");
    const warn = p.violation_count ? `<span class="badge warn">${p.violation_count} contrainte(s) non respectée(s)</span>` : "";
    button.innerHTML = `<span class="badge ${p.status}">${STATUS_LABELS[p.status]}</span>${warn}<strong>${esc(p.name)}</strong>` +
      `<small>${ORIGIN_LABELS[p.origin]} · ${p.k} secteurs · écart max ${pct(p.max_deviation).replace("+", "")} · ` +
      `compacité ${p.mean_polsby_popper == null ? "—" : fmt.dec2.format(p.mean_polsby_popper)} · ` +
      `${new Date(p.created_at).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" })}</small>`;
    button.addEventListener("click", () => showPlan(p.id).catch((e) => setStatus(`Erreur : ${e.message}`, true)));
    item.append(button);
    return item;
  }));
  const chosen = selectId ?? plans.data[0].id;
  await showPlan(chosen);
}

async function followJob(job) {
  $("job").hidden = false;
  while (job.status === "queued" || job.status === "running") {
    $("job-progress").value = job.progress;
    $("job-stage").textContent = `${STAGE_LABELS[job.stage] ?? "En attente"}… ${Math.round(job.progress * 100)} %`;
    await new Promise((r) => setTimeout(r, 300));
    job = await getJSON(`/api/jobs/${job.id}`);
  }
  $("job-progress").value = job.progress;
  if (job.status === "failed") {
    $("job-stage").textContent = "Échec de la proposition";
    throw new Error(job.error);
  }
  $("job-stage").textContent = "Proposition enregistrée en brouillon.";
  return job.plan_id;
}

async function propose(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  const form = new FormData($("propose-form"));
  const body = {
    k: Number(form.get("k")),
    tolerance: Number(form.get("tolerance")) / 100,
    method: form.get("method"),
    resolution: Number(form.get("resolution")),
    seed: Number(form.get("seed")),
  };
  $("propose").disabled = true;
  try {
    const job = await postJSON(`/api/csp/${csp.id}/plans`, body);
    const planId = await followJob(job);
    await loadPlans(planId);
  } catch (e) {
    $("form-error").textContent = `Proposition impossible : ${e.message}`;
  } finally {
    $("propose").disabled = false;
  }
}

async function showCsp(chosen) {
  csp = chosen;
  setStatus("Chargement…");
  const [outline, grids, communes] = await Promise.all([
    getJSON(`/api/csp/${csp.id}`), getJSON(`/api/csp/${csp.id}/grids`), getJSON(`/api/communes?csp=${csp.id}`),
  ]);
  communeLayer?.remove();
  communeLayer = L.geoJSON(communes, {
    style: { color: "#333", weight: 1, dashArray: "4 3", fill: false, interactive: false, className: "commune-line" },
    onEachFeature: (f, layer) => layer.bindTooltip(esc(f.properties.name), { permanent: false }),
  }).addTo(map);
  outlineLayer?.remove();
  outlineLayer = L.geoJSON(outline, { style: { color: "#1d3557", weight: 3, fill: false, interactive: false, className: "csp-outline" } }).addTo(map);
  map.fitBounds(outlineLayer.getBounds(), { padding: [20, 20] });
  sectorLayer?.remove();
  $("plan-detail").hidden = true;
  $("resolution").replaceChildren(...grids.data.map((g) => new Option(`Résolution ${g.resolution} — ${fmt.int.format(g.cell_count)} cellules`, g.resolution)));
  $("propose").disabled = !grids.count;
  if (!grids.count) $("form-error").textContent = "Aucune grille pour cette CSP : construisez-la d'abord (psq grid build).";
  await loadPlans();
  setStatus("");
  document.body.dataset.ready = "true";
}

async function main() {
  try {
    $("propose-form").addEventListener("submit", propose);
    $("adopt").addEventListener("click", async () => {
      try {
        await postJSON(`/api/plans/${selectedPlan.id}/adopt`);
        await loadPlans(selectedPlan.id);
      } catch (e) { setStatus(`Erreur : ${e.message}`, true); }
    });
    const onError = (e) => setStatus(`Erreur : ${e.message}`, true);
    if (!(await bindCspSelect($("csp-select"), showCsp, onError))) {
      setStatus("Aucune circonscription importée.", true);
    }
  } catch (e) {
    setStatus(`Impossible de charger la page : ${e.message}`, true);
  }
}

main();
