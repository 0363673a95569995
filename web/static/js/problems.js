// Problems page: the CSP's problems on the map (coloured by category, synthetic ones
// labelled), and a form to record a new one placed by clicking (a point) or drawing (a
// street as a line, a place as a polygon) on the map. A partner reads the problems of its
// GPOs: the forms that record problems, steps, actions and evaluations are the chef's.
import { bindCspSelect, day, esc, getJSON, postJSON } from "./api.js";
import { drawTerritory } from "./sectors.js";
import { $, addLegend, can, categoryColour, createMap, labelOptions, legendRow, searchAddress, setStatus, statusError } from "./ui.js";

const WRITES = can("problem_write");

const OPEN = ["signale", "analyse", "actions_en_cours", "evalue"];

const map = createMap();

let csp = null;
let taxonomy = null;
let territory = null;
let problemLayer = null;
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
    ? "Tracé prêt. Complétez le formulaire puis enregistrez (ou continuez à cliquer pour ajouter des sommets)."
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
    (p.sector == null ? "<br>Aucun plan adopté : secteur non déterminé" : `<br>Secteur n° ${p.sector + 1}`);
}

async function loadProblems() {
  const params = new URLSearchParams({ limit: "20000" });
  if ($("filter-status").value === "open") OPEN.forEach((s) => params.append("status", s));
  const problems = await getJSON(`/api/csp/${csp.id}/problems?${params}`);
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
      layer.on("click", () => showDetail(f.properties.id).catch(statusError));
    },
  }).addTo(map);
  const synthetic = problems.features.filter((f) => f.properties.synthetic).length;
  $("synthetic-banner").hidden = synthetic === 0;
  $("problem-count").textContent = `${problems.features.length} problématique(s) affichée(s)` +
    (synthetic ? `, dont ${synthetic} fictive(s)` : "");
  document.body.dataset.problems = String(problems.features.length);
}

// The selected problem: its dated steps, the next steps it may take, its actions and
// evaluations, with forms to record them.
let detail = null;

async function showDetail(id) {
  detail = await getJSON(`/api/problems/${id}`);
  const p = detail;
  $("detail-title").textContent = p.title + (p.synthetic ? " (fictive)" : "");
  $("detail-meta").textContent = `${p.category_label} · priorité ${p.priority} · statut : ${p.status_label}` +
    (p.sector == null ? "" : ` · secteur n° ${p.sector + 1}`) + (p.address ? ` · ${p.address}` : "");
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
  $("detail-error").textContent = "";
  $("problem-detail").hidden = false;
  document.body.dataset.detail = String(p.id);
}

async function record(path, body) {
  try {
    await postJSON(path, body);
    await showDetail(detail.id);
    await loadProblems();
  } catch (e) {
    $("detail-error").textContent = `Refusé : ${e.message}`;
  }
}

async function submit(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  $("form-ok").textContent = "";
  const geom = geometry();
  if (!geom) {
    $("form-error").textContent = "Placez d'abord la problématique sur la carte.";
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
      (problem.sector == null ? " (aucun plan adopté : secteur à déterminer)." : ` dans le secteur n° ${problem.sector + 1}.`);
    $("problem-form").reset();
    $("reported_on").value = new Date().toISOString().slice(0, 10);
    setShape("");
    await loadProblems();
    document.body.dataset.created = String(problem.id);
  } catch (e) {
    $("form-error").textContent = `Enregistrement refusé : ${e.message}`;
  }
}

// Addresses of the CSP from the local address table (BAN format): a click places a point there.
async function findAddress(event) {
  event.preventDefault();
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
    },
  });
}

async function showCsp(chosen) {
  csp = chosen;
  setStatus("Chargement…");
  const [outline, communes, partners] = await Promise.all([
    getJSON(`/api/csp/${csp.id}`), getJSON(`/api/communes?csp=${csp.id}`), getJSON(`/api/csp/${csp.id}/partners`),
  ]);
  territory?.remove();
  territory = drawTerritory(map, outline, communes);
  $("partner").replaceChildren(new Option("—", ""), ...partners.data.map((p) => new Option(p.organisation, p.id)));
  $("action-partner").replaceChildren(new Option("—", ""), ...partners.data.map((p) => new Option(p.organisation, p.id)));
  await loadProblems();
  // A chef or a partner sees its GPOs' problems only: show where they are, not the CSP.
  const mine = problemLayer?.getBounds();
  if (!can("admin") && mine?.isValid()) map.fitBounds(mine, { padding: [40, 40], maxZoom: 15 });
  setStatus("");
  // ?problem=ID (a link from the cartography page): open that problem's record.
  const asked = Number(new URLSearchParams(location.search).get("problem"));
  if (asked) await showDetail(asked);
  document.body.dataset.ready = "true";
}

async function main() {
  try {
    taxonomy = await getJSON("/api/taxonomy");
    $("category").replaceChildren(...labelOptions(taxonomy.categories));
    $("priority").replaceChildren(...labelOptions(taxonomy.priorities, "normale"));
    addLegend(map).getContainer().innerHTML = "<h3>Catégories</h3>" + Object.entries(taxonomy.categories)
      .map(([code, label]) => legendRow(categoryColour(code), esc(label))).join("");
    $("reported_on").value = new Date().toISOString().slice(0, 10);
    $("reported_on").max = $("reported_on").value;
    document.querySelectorAll("[data-shape]").forEach((b) => b.addEventListener("click", () => setShape(b.dataset.shape)));
    $("draw-clear").addEventListener("click", () => { vertices = []; drawSketch(); });
    map.on("click", (e) => {
      if (!shape) return;
      vertices = shape === "Point" ? [e.latlng] : [...vertices, e.latlng];
      drawSketch();
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
      });
    });
    $("evaluation-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const form = new FormData($("evaluation-form"));
      record(`/api/problems/${detail.id}/evaluations`, {
        outcome: form.get("outcome"),
        indicators: { signalements_avant: Number(form.get("before")), signalements_apres: Number(form.get("after")) },
      });
    });
    $("geocode-form").addEventListener("submit", (e) => findAddress(e).catch((err) => {
      $("geocode-results").innerHTML = `<li class="error-text">Recherche impossible : ${esc(err.message)}</li>`;
    }));
    $("filter-status").addEventListener("change", () => loadProblems().catch(statusError));
    if (!(await bindCspSelect($("csp-select"), showCsp, statusError))) setStatus("Aucune circonscription importée.", true);
  } catch (e) {
    setStatus(`Impossible de charger la page : ${e.message}`, true);
  }
}

main();
