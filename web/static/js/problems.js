// Problems page: the CSP's problems on the map (coloured by category, synthetic ones
// labelled) over the adopted plan's sectors, and listed beside it, both filtered by GPO,
// sector, category, status, period and text (the filters live in the URL, so that a link
// reopens them) and exported as CSV or GeoJSON; a form to record a new one placed by
// clicking (a point) or drawing (a street as a line, a place as a polygon) on the map. A
// partner reads the problems of its GPOs: the forms that record problems, steps, actions
// and evaluations are the chef's.
import { bindCspSelect, day, esc, getJSON, isoDay, postJSON, refusal } from "./api.js";
import { clearRefusal, showRefusal } from "./forms.js";
import { drawTerritory, sectorLabel } from "./sectors.js";
import { $, addLegend, can, categoryColour, createMap, labelOptions, legendRow, nearestAddress, onTyping, searchAddress, setStatus, showBaseMapLegend, statusError } from "./ui.js";

const WRITES = can("problem_write");

const OPEN = ["signale", "analyse", "actions_en_cours", "evalue"];
// How many problems the map draws, and how many rows the list shows.
const MAP_LIMIT = 20000;
const LIST_ROWS = 200;
// The filters: their URL parameters (those of the API) and their inputs.
const FILTERS = {
  gpo: "filter-gpo", sector: "filter-sector", category: "filter-category", status: "filter-status",
  since: "filter-since", until: "filter-until", q: "filter-q",
};

const map = createMap();

let csp = null;
let taxonomy = null;
let territory = null;
let problemLayer = null;
let sectorLayer = null;
// The adopted plan's sectors ({ sector: name }), drawn under the problems.
let sectorNames = {};
// A sector of the adopted plan by its name (« Secteur 3 », or the name the planner gave it).
const sectorName = (index) => sectorNames[index] ?? `Secteur ${index + 1}`;
map.createPane("sectors").style.zIndex = 350;  // under the problems (overlay pane: 400)
let shape = "";  // "" to consult the map (problems clickable), else the shape being drawn
let vertices = [];
const sketch = L.layerGroup().addTo(map);

function drawSketch() {
  sketch.clearLayers();
  const style = { color: "#d00", weight: 3 };
  if (shape === "Point" && vertices.length) L.circleMarker(vertices[0], { ...style, radius: 8 }).addTo(sketch);
  if (shape === "LineString" && vertices.length) L.polyline(vertices, style).addTo(sketch);
  if (shape === "Polygon" && vertices.length) L.polygon(vertices, { ...style, fillOpacity: 0.2 }).addTo(sketch);
  for (const v of vertices) L.circleMarker(v, { radius: 3, color: "#d00" }).addTo(sketch);
  if (!shape) {
    $("draw-hint").textContent = "Choisissez la forme (point, rue ou lieu) puis cliquez sur la carte pour placer la problématique.";
    return;
  }
  const needed = { Point: 1, LineString: 2, Polygon: 3 }[shape];
  $("draw-hint").textContent = vertices.length >= needed
    ? (shape === "Point"
      ? "Point placé. Complétez le formulaire puis enregistrez (cliquez ailleurs sur la carte pour le déplacer)."
      : "Tracé prêt. Complétez le formulaire puis enregistrez (ou continuez à cliquer pour ajouter des sommets).")
    : { Point: "Cliquez sur la carte pour placer la problématique.",
        LineString: `Cliquez les points de la rue (${vertices.length}/2 au moins).`,
        Polygon: `Cliquez les sommets du lieu (${vertices.length}/3 au moins).` }[shape];
}

function geometry() {
  if (!shape) return null;
  const xy = vertices.map((v) => [v.lng, v.lat]);
  if (shape === "Point") return xy.length ? { type: "Point", coordinates: xy[0] } : null;
  if (shape === "LineString") return xy.length >= 2 ? { type: "LineString", coordinates: xy } : null;
  return xy.length >= 3 ? { type: "Polygon", coordinates: [[...xy, xy[0]]] } : null;
}

function setShape(name) {
  shape = name;
  vertices = [];
  document.querySelectorAll("[data-shape]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.shape === name)));
  // while drawing, the problems must not catch the clicks (nor open their popups)
  map.closePopup();
  problemLayer?.eachLayer((layer) => {
    layer.options.interactive = !name;
    layer.getElement?.()?.classList.toggle("leaflet-interactive", !name);
  });
  drawSketch();
}

function popup(p) {
  const synthetic = p.synthetic ? ' <span class="badge warn">fictive</span>' : "";
  return `<strong>${esc(p.title)}</strong>${synthetic}<br>${esc(p.category_label)}<br>` +
    `Statut : ${esc(p.status_label)} (depuis le ${day(p.status_on)})<br>` +
    `Signalée le ${day(p.reported_on)} · priorité ${esc(p.priority)}` +
    (p.sector == null ? "<br>Aucun plan adopté : secteur non déterminé" : `<br>${esc(sectorName(p.sector))}`);
}

// The filters as API (and URL) parameters; `status` absent means the open ones, empty
// means every status.
function filterParams() {
  const params = new URLSearchParams();
  for (const [name, id] of Object.entries(FILTERS)) {
    const input = $(id);
    if (input.multiple) {
      const chosen = [...input.selectedOptions].map((o) => o.value);
      chosen.forEach((v) => params.append(name, v));
      if (name === "status" && !chosen.length) params.set("status", "");
    } else if (input.value.trim()) {
      params.set(name, input.value.trim());
    }
  }
  return params;
}

// The filters from the URL (a shared link): the open statuses unless it says otherwise.
function readFilters(query) {
  for (const [name, id] of Object.entries(FILTERS)) {
    const input = $(id);
    const values = query.getAll(name);
    if (input.multiple) {
      const chosen = name === "status" && !query.has("status") ? OPEN : values;
      [...input.options].forEach((o) => { o.selected = chosen.includes(o.value); });
    } else {
      input.value = values[0] ?? "";
      if (input.tagName === "SELECT" && input.selectedIndex < 0) input.value = "";
    }
  }
}

// The filters in the page's URL (with the CSP and the open problem), without a reload.
function writeFilters() {
  const url = new URL(location.href);
  const params = filterParams();
  params.set("csp", csp.id);
  if (detail) params.set("problem", detail.id);
  url.search = params.toString();
  history.replaceState(null, "", url);
}

// The API's query: the filters without an empty status (every status).
function apiParams(extra = {}) {
  const params = filterParams();
  if (params.get("status") === "") params.delete("status");
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

function listRow(p) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.problem = p.id;
  button.innerHTML = `<span class="swatch" style="background:${categoryColour(p.category)}"></span>` +
    `${esc(p.title)}${p.synthetic ? ' <span class="badge warn">fictive</span>' : ""}` +
    `<small>${esc(p.category_label)} · ${esc(p.status_label)} · signalée le ${day(p.reported_on)}` +
    `${p.sector == null ? "" : ` · ${esc(sectorName(p.sector))}`}</small>`;
  button.addEventListener("click", () => openProblem(p.id, true).catch(statusError));
  li.append(button);
  return li;
}

function showList(problems) {
  const rows = problems.features.slice(0, LIST_ROWS).map((f) => listRow(f.properties));
  $("problem-list").replaceChildren(...rows);
  const synthetic = problems.features.filter((f) => f.properties.synthetic).length;
  $("synthetic-banner").hidden = synthetic === 0;
  $("problem-count").textContent = problems.count === 0
    ? "Aucune problématique ne correspond à ces filtres."
    : `${problems.count} problématique(s) correspondent à ces filtres` +
      (synthetic ? `, dont ${synthetic} fictive(s)` : "") +
      (problems.count > problems.features.length ? ` ; la carte en montre ${problems.features.length}` : "") +
      (problems.features.length > LIST_ROWS ? ` ; la liste, les ${LIST_ROWS} plus récentes` : "") + ".";
  $("exports").hidden = !can("problem_records") || problems.count === 0;
  markSelected();
}

let loads = 0;  // only the latest load draws (the filters may change meanwhile)
async function loadProblems() {
  const mine = ++loads;
  $("filter-error").textContent = "";
  clearRefusal($("filters"));
  writeFilters();
  let problems;
  try {
    problems = await getJSON(`/api/csp/${csp.id}/problems?${apiParams({ limit: MAP_LIMIT })}`);
  } catch (e) {
    if (mine === loads) showRefusal($("filters"), e, $("filter-error"), "Filtres refusés");
    return;
  }
  if (mine !== loads) return;
  problemLayer?.remove();
  problemLayer = L.geoJSON(problems, {
    interactive: !shape,
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { interactive: !shape, radius: 6 }),
    // `style` applies to every vector, the point markers included
    style: (f) => {
      const colour = categoryColour(f.properties.category);
      return f.geometry.type === "Point"
        ? { color: "#fff", weight: 1.5, fillColor: colour, fillOpacity: 0.9, className: "problem" }
        : { color: colour, weight: 4, fillColor: colour, fillOpacity: 0.35, className: "problem" };
    },
    onEachFeature: (f, layer) => {
      layer.bindPopup(popup(f.properties));
      layer.on("click", () => openProblem(f.properties.id).catch(statusError));
    },
  }).addTo(map);
  showList(problems);
  document.body.dataset.problems = String(problems.features.length);
  document.body.dataset.count = String(problems.count);
  document.body.dataset.loads = String(Number(document.body.dataset.loads ?? 0) + 1);
}

// The adopted plan's sector outlines under the problems, named; none without a plan.
async function drawSectorOutlines() {
  sectorLayer?.remove();
  sectorLayer = null;
  sectorNames = {};
  const plans = can("sectors_read") ? await getJSON(`/api/csp/${csp.id}/plans`) : { data: [] };
  const adopted = plans.data.find((p) => p.status === "adopted");
  const sectors = adopted ? (await getJSON(`/api/plans/${adopted.id}`)).sectors : { features: [] };
  for (const f of sectors.features) sectorNames[f.properties.sector] = f.properties.name;
  $("filter-sector").replaceChildren(new Option("Tous les secteurs", ""), ...sectors.features
    .map((f) => new Option(f.properties.name, f.properties.sector)));
  sectorLayer = L.layerGroup([L.geoJSON(sectors, {
    pane: "sectors",
    interactive: false,
    style: () => ({ color: "#1d3557", weight: 2, dashArray: "6 4", fill: false, className: "sector-outline" }),
  })]).addTo(map);
  for (const f of sectors.features) sectorLabel(f, sectorLayer, "sector-label sector-outline-label");
  document.body.dataset.sectors = String(sectors.features.length);
}

// Download the filtered list as a file (the API's answer, or its refusal shown).
async function exportAs(format) {
  $("export-error").textContent = "";
  const response = await fetch(`/api/csp/${csp.id}/problems.${format}?${apiParams()}`, { credentials: "same-origin" });
  if (!response.ok) {
    $("export-error").textContent = `Export refusé : ${(await refusal(response)).message}`;
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? `problematiques.${format}`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// The selected problem: its dated steps, the next steps it may take, its actions and
// evaluations, with forms to record them.
let detail = null;

async function showDetail(id) {
  detail = await getJSON(`/api/problems/${id}`);
  const p = detail;
  $("detail-title").textContent = p.title + (p.synthetic ? " (fictive)" : "");
  $("detail-meta").textContent = `${p.category_label} · priorité ${p.priority} · statut : ${p.status_label}` +
    (p.sector == null ? "" : ` · ${sectorName(p.sector)}`) + (p.address ? ` · ${p.address}` : "");
  if (!p.address) {
    // No address written: the one nearest the problem (« près du 12 faubourg de France »).
    const centre = L.geoJSON(p.geometry).getBounds().getCenter();
    nearestAddress(centre, csp?.id).then((near) => {
      if (near.found && detail === p) $("detail-meta").textContent += ` · ${near.near}`;
    }).catch(() => { /* the address is a help: the record stays as it is */ });
  }
  $("detail-events").innerHTML = p.events.map((e) =>
    `<li>${esc(taxonomy.statuses[e.status])} le ${day(e.on)}${e.note ? ` — ${esc(e.note)}` : ""}</li>`).join("");
  $("detail-steps").replaceChildren(...(WRITES ? taxonomy.transitions[p.status] : []).map((next) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `→ ${taxonomy.statuses[next]}`;
    button.dataset.step = next;
    button.addEventListener("click", () => record(`/api/problems/${p.id}/transitions`, { status: next }));
    return button;
  }));
  $("detail-actions").innerHTML = p.actions.map((a) =>
    `<li${a.overdue ? ' class="violation"' : ""}>${esc(a.type_label)} — ${esc(a.lead_partner ?? "sans pilote")} · ` +
    `depuis le ${day(a.start_on)}${a.due_on ? ` · échéance ${day(a.due_on)}` : ""} · ${esc(taxonomy.action_statuses[a.status])}` +
    `${a.overdue ? " (en retard)" : ""}</li>`).join("") || '<li class="hint">Aucune action.</li>';
  $("detail-evaluations").innerHTML = p.evaluations.map((e) =>
    `<li>${day(e.evaluated_on)} : ${esc(taxonomy.outcomes[e.outcome])}` +
    Object.entries(e.indicators).map(([k, v]) => ` · ${esc(k.replace(/_/g, " "))} ${v}`).join("") + "</li>").join("") ||
    '<li class="hint">Pas encore évaluée.</li>';
  const closed = !WRITES || taxonomy.transitions[p.status].length === 0;
  $("action-form").hidden = closed;
  $("evaluation-form").hidden = closed || !p.actions.length;
  $("detail-error").textContent = $("action-error").textContent = $("evaluation-error").textContent = "";
  for (const id of ["action-form", "evaluation-form", "detail-steps"]) clearRefusal($(id));
  $("problem-detail").hidden = false;
  document.body.dataset.detail = String(p.id);
  markSelected();
}

// Scroll `box` (a scrolling list or the side panel) so that `element` shows in it, at its
// top when `atTop`: the page itself never scrolls, so the header and the map stay put.
function reveal(box, element, atTop = false) {
  const top = element.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  const bottom = top + element.offsetHeight;
  if (atTop) box.scrollTo({ top, behavior: "smooth" });
  else if (top < box.scrollTop) box.scrollTo({ top });
  else if (bottom > box.scrollTop + box.clientHeight) box.scrollTo({ top: bottom - box.clientHeight });
}

// The row of the open problem, highlighted and in view.
function markSelected() {
  for (const button of $("problem-list").querySelectorAll("button[data-problem]")) {
    const selected = detail != null && Number(button.dataset.problem) === detail.id;
    button.setAttribute("aria-current", String(selected));
    if (selected) reveal($("problem-list"), button);
  }
}

// Open a problem's record (and the URL says so); `focus` centres the map on it.
async function openProblem(id, focus = false) {
  await showDetail(id);
  writeFilters();
  if (!focus) return;
  reveal($("problem-detail").closest(".panel"), $("problem-detail"), true);
  problemLayer?.eachLayer((layer) => {
    if (layer.feature?.properties.id !== id) return;
    const bounds = layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng()]);
    map.fitBounds(bounds, { maxZoom: Math.max(map.getZoom(), 15), padding: [40, 40] });
    layer.openPopup?.();
  });
}

// Send a step, an action or an evaluation of the open problem; a refusal is said in
// `scope` (its fields, and `summary` by its button).
async function record(path, body, scope = $("detail-steps"), summary = $("detail-error")) {
  clearRefusal(scope);
  summary.textContent = "";
  try {
    await postJSON(path, body);
    await showDetail(detail.id);
    await loadProblems();
  } catch (e) {
    showRefusal(scope, e, summary, "Refusé");
  }
}

async function submit(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  $("form-ok").textContent = "";
  clearRefusal($("intake"));
  const geom = geometry();
  if (!geom) {
    const why = { field: "geometry", label: "Emplacement sur la carte", msg: "placez d'abord la problématique sur la carte (point, rue ou lieu)" };
    showRefusal($("intake"), { message: `${why.label} : ${why.msg}`, fields: [why] }, $("form-error"), "Enregistrement refusé");
    return;
  }
  const form = new FormData($("problem-form"));
  const body = {
    category: form.get("category"), title: form.get("title"), description: form.get("description") || null,
    address: form.get("address") || null, reported_on: form.get("reported_on"), priority: form.get("priority"),
    partner_id: form.get("partner_id") ? Number(form.get("partner_id")) : null, geometry: geom,
  };
  try {
    const problem = await postJSON(`/api/csp/${csp.id}/problems`, body);
    $("form-ok").textContent = `Problématique n° ${problem.id} enregistrée` +
      (problem.sector == null ? " (aucun plan adopté : secteur à déterminer)." : ` (secteur : ${sectorName(problem.sector)}).`);
    $("problem-form").reset();
    $("reported_on").value = isoDay();
    setShape("");
    await loadProblems();
    await openProblem(problem.id);  // the saved problem opens
    document.body.dataset.created = String(problem.id);
  } catch (e) {
    showRefusal($("intake"), e, $("form-error"), "Enregistrement refusé");
  }
}

// Addresses of the CSP from the local address table (BAN format): a click places a point there.
async function findAddress(event) {
  event?.preventDefault();
  return searchAddress(String(new FormData($("geocode-form")).get("q") ?? ""), {
    scope: { csp: csp.id },
    list: $("geocode-results"),
    empty: "Aucune adresse trouvée dans la table d'adresses de la CSP (importez un extrait de la Base Adresse Nationale).",
    fill: $("address"),
    map,
    onPick: (_, latlng) => {
      setShape("Point");
      vertices = [latlng];
      drawSketch();
      $("near-address").textContent = "";
    },
  });
}

// A point placed by a click: the nearest address said under the map (« près du 12
// faubourg de France »), and written in the address field when that is empty.
async function sayNearestAddress(latlng) {
  const near = await nearestAddress(latlng, csp?.id);
  $("near-address").textContent = near.found ? `Point placé ${near.near} (${near.label}, à ${Math.round(near.distance_m)} m)` : "";
  const field = $("address");
  if (!field.value || field.dataset.auto === field.value) {
    field.value = near.found ? `Près du ${near.label}` : "";
    field.dataset.auto = field.value;
  }
}

async function showCsp(chosen) {
  csp = chosen;
  showBaseMapLegend(map, csp.id);
  detail = null;
  $("problem-detail").hidden = true;
  setStatus("Chargement…");
  const [outline, communes, partners, gpos] = await Promise.all([
    getJSON(`/api/csp/${csp.id}`), getJSON(`/api/communes?csp=${csp.id}`), getJSON(`/api/csp/${csp.id}/partners`),
    can("gpo_read") ? getJSON(`/api/csp/${csp.id}/gpos`) : { data: [] },
  ]);
  territory?.remove();
  territory = drawTerritory(map, outline, communes);
  $("partner").replaceChildren(new Option("—", ""), ...partners.data.map((p) => new Option(p.organisation, p.id)));
  $("action-partner").replaceChildren(new Option("—", ""), ...partners.data.map((p) => new Option(p.organisation, p.id)));
  $("filter-gpo").replaceChildren(new Option("Tous les GPO", ""), ...gpos.data.map((g) =>
    new Option(g.name + (g.kind === "thematic" ? " (thématique)" : "") + (g.active ? "" : " (inactif)"), g.id)));
  await drawSectorOutlines();
  const query = new URLSearchParams(location.search);
  readFilters(Number(query.get("csp")) === csp.id || !query.has("csp") ? query : new URLSearchParams());
  await loadProblems();
  // A chef or a partner sees its GPOs' problems only: show where they are, not the CSP.
  const mine = problemLayer?.getBounds();
  if (!can("admin") && mine?.isValid()) map.fitBounds(mine, { padding: [40, 40], maxZoom: 15 });
  setStatus("");
  // ?problem=ID (a link from the cartography page, or a shared link): open that record,
  // in view at the top of the panel and the map centred on it.
  const asked = Number(query.get("problem"));
  if (asked) await openProblem(asked, true);
  document.body.dataset.ready = "true";
}

async function main() {
  try {
    taxonomy = await getJSON("/api/taxonomy");
    $("category").replaceChildren(...labelOptions(taxonomy.categories));
    $("priority").replaceChildren(...labelOptions(taxonomy.priorities, "normale"));
    addLegend(map).getContainer().innerHTML = "<h3>Catégories</h3>" + Object.entries(taxonomy.categories)
      .map(([code, label]) => legendRow(categoryColour(code), esc(label))).join("");
    $("reported_on").value = isoDay();
    $("reported_on").max = $("reported_on").value;
    document.querySelectorAll("[data-shape]").forEach((b) => b.addEventListener("click", () => setShape(b.dataset.shape)));
    $("draw-clear").addEventListener("click", () => { vertices = []; drawSketch(); });
    map.on("click", (e) => {
      if (!shape) return;
      vertices = shape === "Point" ? [e.latlng] : [...vertices, e.latlng];
      drawSketch();
      if (shape === "Point") sayNearestAddress(e.latlng).catch(() => { $("near-address").textContent = ""; });
    });
    $("problem-form").addEventListener("submit", submit);
    $("action-type").replaceChildren(...labelOptions(taxonomy.action_types));
    $("evaluation-outcome").replaceChildren(...labelOptions(taxonomy.outcomes));
    $("action-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const form = new FormData($("action-form"));
      record(`/api/problems/${detail.id}/actions`, {
        type: form.get("type"), lead_partner_id: form.get("lead_partner_id") ? Number(form.get("lead_partner_id")) : null,
        due_on: form.get("due_on") || null,
      }, $("action-form"), $("action-error"));
    });
    $("evaluation-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const form = new FormData($("evaluation-form"));
      record(`/api/problems/${detail.id}/evaluations`, {
        outcome: form.get("outcome"),
        indicators: { signalements_avant: Number(form.get("before")), signalements_apres: Number(form.get("after")) },
      }, $("evaluation-form"), $("evaluation-error"));
    });
    const addressError = (err) => {
      $("geocode-results").innerHTML = `<li class="error-text">Recherche impossible : ${esc(err.message)}</li>`;
    };
    $("geocode-form").addEventListener("submit", (e) => findAddress(e).catch(addressError));
    onTyping($("geocode-q"), () => findAddress().catch(addressError));
    $("filter-category").replaceChildren(...labelOptions(taxonomy.categories));
    $("filter-status").replaceChildren(...labelOptions(taxonomy.statuses));
    $("filters").addEventListener("submit", (e) => {
      e.preventDefault();
      loadProblems().catch(statusError);
    });
    for (const id of Object.values(FILTERS)) {
      if (id !== "filter-q") $(id).addEventListener("change", () => loadProblems().catch(statusError));
    }
    let typing = null;
    $("filter-q").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => loadProblems().catch(statusError), 400);
    });
    $("filter-reset").addEventListener("click", () => {
      readFilters(new URLSearchParams());
      loadProblems().catch(statusError);
    });
    $("export-csv").addEventListener("click", () => exportAs("csv").catch(statusError));
    $("export-geojson").addEventListener("click", () => exportAs("geojson").catch(statusError));
    if (!(await bindCspSelect($("csp-select"), showCsp, statusError))) setStatus("Aucune circonscription importée.", true);
  } catch (e) {
    setStatus(`Impossible de charger la page : ${e.message}`, true);
  }
}

main();
