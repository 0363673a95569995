// Plan editor: paint H3 cells into a target sector (click or drag, with a mouse, a finger or
// a pen: pointer events; one cell, a larger brush or a whole commune at once), or move the
// selected cell to a neighbouring sector from the keyboard; lock sectors, undo and redo,
// re-optimise the unlocked sectors, save the working copy as a new version.
// Every edit is sent to the server, which checks it and answers with the new metrics.
import { esc, fmt, followJob, getJSON, percent, postJSON, sendJSON } from "./api.js";
import { PLAN_STATUSES, STATUS_LABELS, colour, communeName, devBar, deviationPct, drawTerritory, unsignedPct, violationItems } from "./sectors.js";
import { $, createMap, keepFocus, setStatus, showBaseMapLegend } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const planId = Number(new URLSearchParams(location.search).get("plan"));
// The editor's refusals and failures, in their own line.
const showError = (text) => { $("editor-error").textContent = text; };

const map = createMap({ preferCanvas: true });

let plan = null;          // the working copy (GET /api/plans/{id})
let state = null;         // its live figures (version, metrics, violations, detached…)
let target = 0;           // the sector the brush paints into
let tool = "brush";
const cells = new Map();  // h3 -> { layer, sector }
const undoStack = [];
const redoStack = [];
let stroke = new Map();   // the stroke being painted: h3 -> target sector
const pending = new Map();  // cells painted but not yet confirmed (shown in their new sector)
let painting = false;
let inFlight = 0;         // edits sent and not answered yet
let frozen = false;       // while a re-optimisation runs
let queue = Promise.resolve();  // edits are sent one after the other
let detachedShown = new Set();
let brush = "cell";       // "cell", "large" (a disc of LARGE_BRUSH_PX) or "commune"
const LARGE_BRUSH_PX = 22;
let original = new Map(); // h3 -> sector in the saved plan the copy came from
let parent = null;        // that plan (GET /api/plans/{parent_id}), null for none
let selected = null;      // the cell the keyboard moves (h3)
const selectedLayer = L.layerGroup();
const labelLayer = L.layerGroup();
let neighbours = new Map();  // h3 -> the cells it touches
let labelCells = new Map();  // sector -> the cell its name sits on

const locked = (sector) => state.locked_sectors.includes(sector);

function cellStyle(h3) {
  const cell = cells.get(h3);
  const sector = pending.get(h3) ?? cell.sector;
  const detached = detachedShown.has(h3);
  return {
    fillColor: colour(sector),
    fillOpacity: locked(sector) ? 0.25 : (pending.has(h3) ? 0.9 : 0.6),
    color: detached ? "#c0392b" : "#ffffff",
    weight: detached ? 3 : 0.4,
    opacity: detached ? 1 : 0.6,
  };
}

function restyle(h3s) {
  for (const h3 of h3s) cells.get(h3)?.layer.setStyle(cellStyle(h3));
}

function renderState() {
  const m = state.metrics;
  const tolerance = plan.parameters.tolerance ?? 0.05;
  keepFocus($("editor-sectors"), () => { $("editor-sectors").tBodies[0].innerHTML = m.sectors.map((s) => {
    const isLocked = locked(s.sector);
    return `<tr data-sector="${s.sector}" class="${isLocked ? "locked" : ""}">` +
      `<td><input type="radio" name="target" value="${s.sector}" id="target-${s.sector}" ${s.sector === target ? "checked" : ""} ${isLocked ? "disabled" : ""}` +
      ` aria-label="Peindre dans ${esc(s.name)}"></td>` +
      `<td><label for="target-${s.sector}"><span class="swatch" style="background:${colour(s.sector)}"></span>${esc(s.name)}</label>` +
      `<small>${fmt.int.format(s.workload)} · ${fmt.int.format(s.unit_count)} cellules${s.components > 1 ? ` · <strong class="error-text">${s.components} morceaux</strong>` : ""}</small></td>` +
      `<td>${devBar(s.deviation, tolerance)}</td>` +
      `<td><button type="button" class="lock" data-sector="${s.sector}" aria-pressed="${isLocked}" aria-label="${isLocked ? "Verrouillé : déverrouiller" : "Libre : verrouiller"} ${esc(s.name)}" title="${isLocked ? "Déverrouiller" : "Verrouiller"} ${esc(s.name)}">${isLocked ? "Verrouillé" : "Libre"}</button></td></tr>`;
  }).join(""); });
  const split = Object.keys(m.split_communes ?? {}).length;
  const pieces = m.sectors.filter((s) => s.components > 1).length;
  const stats = [
    ["Écart maximal", `${deviationPct(m.max_deviation, tolerance, { signed: false })} (±${percent(tolerance)})`, m.max_deviation > tolerance + 1e-9],
    ["Compacité moyenne", fmt.dec2.format(m.mean_polsby_popper), false],
    ["Communes coupées", fmt.int.format(split), false],
    ["Barrières traversées", fmt.int.format(m.barrier_edges_inside), false],
    ["Secteurs discontinus", fmt.int.format(pieces), pieces > 0],
    ["Version enregistrée", parent ? fmt.int.format(parent.saved_version) : "—", false],
    ["Non enregistré", unsavedText(), false],
  ];
  $("editor-metrics").innerHTML = stats.map(([label, value, bad]) =>
    `<div${bad ? ' class="bad"' : ""}><dt>${label}</dt><dd>${value}</dd></div>`).join("");
  $("editor-violations").innerHTML = violationItems(state.violations);
  const before = detachedShown;
  detachedShown = new Set(state.detached);
  restyle(new Set([...before, ...detachedShown]));
  renderButtons();
  renderSelection();
  placeLabels();
  document.body.dataset.version = String(state.version);
}

// The cells whose sector differs from the saved plan the copy came from.
function unsavedCount() {
  let n = 0;
  for (const [h3, cell] of cells) if (original.has(h3) && original.get(h3) !== cell.sector) n += 1;
  return n;
}

function unsavedText() {
  const n = unsavedCount();
  document.body.dataset.unsaved = String(n);
  return n ? `${fmt.int.format(n)} modification${n > 1 ? "s" : ""} non enregistrée${n > 1 ? "s" : ""}` : "aucune modification";
}

function renderButtons() {
  $("undo").disabled = !undoStack.length || inFlight > 0 || frozen;
  $("redo").disabled = !redoStack.length || inFlight > 0 || frozen;
  for (const button of document.querySelectorAll("button.lock")) button.disabled = frozen;
}

// The server's reasons, in French, for the refusals a planner can meet.
function refusal(error) {
  if (error.status === 409) {
    return "Cette copie de travail a été modifiée par quelqu'un d'autre entre-temps : rechargez la page pour repartir de sa dernière version.";
  }
  return `Modification refusée : ${error.message}`;
}

// Send one edit (cells -> sectors), after the edits already sent; resolves to the
// server's result, or null when the edit was refused (the map is then put back).
function sendEdit(assignments) {
  inFlight += 1;
  renderButtons();
  const done = queue.then(async () => {
    $("save-state").textContent = "Enregistrement…";
    const touched = Object.keys(assignments);
    try {
      const result = await postJSON(`/api/plans/${planId}/edits`, { version: state.version, assignments });
      state = result;
      for (const [h3, sector] of Object.entries(result.moved)) {
        const cell = cells.get(h3);
        cell.sector = sector;
        if (cell.layer.isTooltipOpen()) cell.layer.setTooltipContent(cell.tooltip());
      }
      showError("");
      $("save-state").textContent = "Modification gardée dans la copie de travail, " +
        "pas encore enregistrée comme nouvelle version du plan.";
      return result;
    } catch (e) {
      $("save-state").textContent = "";
      showError(refusal(e));
      return null;
    } finally {
      // a later stroke may have painted the same cell again: keep showing that one
      for (const h3 of touched) if (pending.get(h3) === assignments[h3]) pending.delete(h3);
      restyle(touched);
      inFlight -= 1;
      renderButtons();
    }
  });
  queue = done;
  return done;
}

async function edit(assignments) {
  const result = await sendEdit(assignments);
  if (result && Object.keys(result.moved).length) {
    undoStack.push({ moved: result.moved, previous: result.previous });
    redoStack.length = 0;
  }
  renderState();
}

// Undo sends an edit's previous sectors, redo the edit again; each moves the edit from
// one history stack to the other once the server has accepted it.
async function replay(from, to, field) {
  if (inFlight || frozen) return;  // the history must not interleave with edits in flight
  const entry = from.pop();
  if (!entry) return;
  renderState();
  const result = await sendEdit(entry[field]);
  (result ? to : from).push(entry);
  renderState();
}

const undo = () => replay(undoStack, redoStack, "previous");
const redo = () => replay(redoStack, undoStack, "moved");

function paint(h3) {
  const cell = cells.get(h3);
  if (!cell || frozen || stroke.has(h3) || (pending.get(h3) ?? cell.sector) === target) return;
  if (locked(cell.sector)) {
    showError("Ce secteur est verrouillé : déverrouillez-le pour en retirer des cellules.");
    return;
  }
  stroke.set(h3, target);
  pending.set(h3, target);
  restyle([h3]);
}

function endStroke() {
  if (!painting) return;
  painting = false;
  lastPoint = null;
  if (!stroke.size) return;
  const assignments = Object.fromEntries(stroke);
  stroke = new Map();
  edit(assignments);
}

function setBrush(name) {
  brush = name;
  for (const b of document.querySelectorAll("#brush-sizes button")) b.setAttribute("aria-pressed", String(b.dataset.brush === name));
}

function setTool(name) {
  tool = name;
  $("tool-brush").setAttribute("aria-pressed", String(name === "brush"));
  $("tool-pan").setAttribute("aria-pressed", String(name === "pan"));
  if (name === "brush") map.dragging.disable(); else map.dragging.enable();
  $("map").classList.toggle("brush", name === "brush");
}

async function setLock(sector, on) {
  await queue;  // after the edits in flight, on the version they make
  const sectors = new Set(state.locked_sectors);
  if (on) sectors.add(sector); else sectors.delete(sector);
  try {
    const result = await sendJSON("PUT", `/api/plans/${planId}/locks`, { version: state.version, sectors: [...sectors] });
    state = result;
    if (locked(target)) target = state.metrics.sectors.find((s) => !locked(s.sector))?.sector ?? target;
    restyle(cells.keys());
    renderState();
  } catch (e) {
    showError(e.status === 409 ? refusal(e) : `Verrou refusé : ${e.message}`);
  }
}

// Hit-testing our own cells (not Leaflet's hover events, which are throttled): a fast
// drag still paints every cell under the pointer's path.
const cellIndex = [];  // { h3, bounds, rings }

function insideRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = [ring[i].lng, ring[i].lat];
    const [xj, yj] = [ring[j].lng, ring[j].lat];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function cellAt(latlng) {
  for (const cell of cellIndex) {
    if (!cell.bounds.contains(latlng)) continue;
    // a polygon's rings: outer then holes; a point inside an odd number of them is inside
    for (const polygon of cell.rings) {
      const hits = polygon.filter((ring) => insideRing(latlng.lng, latlng.lat, ring)).length;
      if (hits % 2 === 1) return cell.h3;
    }
  }
  return null;
}

let lastPoint = null;

// Paint what the brush covers at a container point: the cell under it, the cells under a
// disc (large brush), or every cell of the commune under it.
const DISC = [];
for (let dx = -LARGE_BRUSH_PX; dx <= LARGE_BRUSH_PX; dx += 5) {
  for (let dy = -LARGE_BRUSH_PX; dy <= LARGE_BRUSH_PX; dy += 5) if (dx * dx + dy * dy <= LARGE_BRUSH_PX ** 2) DISC.push(L.point(dx, dy));
}
function paintAt(point) {
  if (brush === "large") {
    for (const offset of DISC) {
      const h3 = cellAt(map.containerPointToLatLng(point.add(offset)));
      if (h3) paint(h3);
    }
    return;
  }
  const h3 = cellAt(map.containerPointToLatLng(point));
  if (!h3) return;
  if (brush === "commune") {
    const commune = cells.get(h3).commune;
    if (commune == null || stroke.has(h3)) { paint(h3); return; }
    for (const [other, cell] of cells) if (cell.commune === commune) paint(other);
  } else paint(h3);
}

function paintAlong(point) {
  const from = lastPoint ?? point;
  const step = brush === "large" ? LARGE_BRUSH_PX / 2 : 4;
  const steps = Math.max(1, Math.ceil(from.distanceTo(point) / step));
  for (let i = lastPoint ? 1 : steps; i <= steps; i++) paintAt(from.add(point.subtract(from).multiplyBy(i / steps)));
  lastPoint = point;
}

// -- the sectors' names: each on the cell of its sector farthest (in steps from cell to
// cell) from any other sector and from the territory's edge, a pole of inaccessibility
// on the cells, so that a name always sits inside its own sector, wherever the edits go.
function findNeighbours() {
  neighbours = new Map(cellIndex.map((c) => [c.h3, []]));
  const padded = cellIndex.map((c) => c.bounds.pad(0.05));
  for (let i = 0; i < cellIndex.length; i++) {
    for (let j = i + 1; j < cellIndex.length; j++) {
      if (padded[i].intersects(cellIndex[j].bounds)) {
        neighbours.get(cellIndex[i].h3).push(cellIndex[j].h3);
        neighbours.get(cellIndex[j].h3).push(cellIndex[i].h3);
      }
    }
  }
}

function placeLabels() {
  const depth = new Map();
  const queue = [];
  for (const [h3, cell] of cells) {
    const around = neighbours.get(h3) ?? [];
    if (around.length < 6 || around.some((n) => cells.get(n).sector !== cell.sector)) {
      depth.set(h3, 0);
      queue.push(h3);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const h3 = queue[i];
    for (const n of neighbours.get(h3)) {
      if (!depth.has(n) && cells.get(n).sector === cells.get(h3).sector) {
        depth.set(n, depth.get(h3) + 1);
        queue.push(n);
      }
    }
  }
  labelCells = new Map();
  for (const [h3, cell] of cells) {
    const best = labelCells.get(cell.sector);
    const d = depth.get(h3) ?? 0;
    if (!best || d > depth.get(best) || (d === depth.get(best) && h3 < best)) labelCells.set(cell.sector, h3);
  }
  labelLayer.clearLayers();
  for (const [sector, h3] of labelCells) {
    const name = state.metrics.sectors[sector]?.name ?? `Secteur ${sector + 1}`;
    L.tooltip({ permanent: true, direction: "center", className: "sector-label", interactive: false })
      .setLatLng(cells.get(h3).layer.getCenter()).setContent(esc(name)).addTo(labelLayer);
  }
}

// -- the keyboard: select a cell (the one at the map's centre, or the last one touched)
// and move it to one of the sectors it touches.
function neighbourSectors(h3) {
  const cell = cellIndex.find((c) => c.h3 === h3);
  const own = cells.get(h3).sector;
  const found = new Set((neighbours.get(cell.h3) ?? []).map((n) => cells.get(n).sector));
  found.delete(own);
  return [...found].sort((a, b) => a - b);
}

function select(h3) {
  selected = h3;
  renderSelection();
}

function renderSelection() {
  selectedLayer.clearLayers();
  const box = $("selected-cell");
  if (!selected || !cells.has(selected) || !state) {
    box.textContent = "Aucune cellule sélectionnée.";
    $("move-to").replaceChildren();
    $("move-cell").disabled = true;
    return;
  }
  const cell = cells.get(selected);
  L.polygon(cell.layer.getLatLngs(), { color: "#000", weight: 3, dashArray: "4 3", fill: false, interactive: false, className: "selected-cell" }).addTo(selectedLayer);
  const name = (s) => state.metrics.sectors[s]?.name ?? `Secteur ${s + 1}`;
  box.textContent = `Cellule sélectionnée : ${name(cell.sector)}${cell.commune ? `, commune ${cell.communeName ?? cell.commune}` : ""}.`;
  const choices = neighbourSectors(selected).filter((s) => !locked(s));
  keepFocus($("move-form"), () => {
    $("move-to").replaceChildren(...choices.map((s) => new Option(name(s), s)));
    $("move-cell").disabled = !choices.length || frozen || locked(cell.sector);
  });
}

function selectCentre() {
  const h3 = cellAt(map.getCenter());
  if (h3) select(h3);
  else $("selected-cell").textContent = "Pas de cellule au centre de la carte : déplacez la carte (flèches du clavier).";
}

function moveSelected(event) {
  event.preventDefault();
  if (!selected || $("move-cell").disabled) return;
  const sector = Number($("move-to").value);
  if (locked(cells.get(selected).sector)) {
    showError("Ce secteur est verrouillé : déverrouillez-le pour en retirer des cellules.");
    return;
  }
  pending.set(selected, sector);
  restyle([selected]);
  edit({ [selected]: sector });
}

async function loadCells() {
  const features = await getJSON(`/api/plans/${planId}/cells`);
  cells.clear();
  cellIndex.length = 0;
  L.geoJSON(features, {
    renderer: L.canvas({ padding: 0.5, tolerance: 0 }),
    style: () => ({}),
    onEachFeature: (f, layer) => {
      const h3 = f.properties.h3;
      cells.set(h3, { layer, sector: f.properties.sector, commune: f.properties.commune, communeName: f.properties.commune_name });
      const latlngs = layer.getLatLngs();
      const polygons = Array.isArray(latlngs[0][0]) ? latlngs : [latlngs];  // multi or single
      cellIndex.push({ h3, bounds: layer.getBounds(), rings: polygons });
      const tooltip = () => `${esc(state.metrics.sectors[cells.get(h3).sector].name)}<br><small>Commune ${esc(communeName(f.properties.commune))} · ` +
        `charge de la cellule ${fmt.dec1.format(f.properties.workload)}</small>`;
      cells.get(h3).tooltip = tooltip;
      layer.bindTooltip(tooltip, { sticky: true });
    },
  }).addTo(cellLayerGroup);
  restyle(cells.keys());
}

const cellLayerGroup = L.layerGroup().addTo(map);

async function reoptimise() {
  $("reoptimise").disabled = true;
  $("job").hidden = false;
  frozen = true;  // no painting, locking or undo while the engine redraws the sectors
  renderButtons();
  try {
    await queue;
    const job = await followJob(await postJSON(`/api/plans/${planId}/reoptimise`, { version: state.version }), (j) => {
      $("job-progress").value = j.progress;
      $("job-stage").textContent = `Ré-optimisation… ${Math.round(j.progress * 100)} %`;
    });
    if (job.status !== "done") throw new Error(job.error);  // failed, or cancelled
    $("job-stage").textContent = "Secteurs non verrouillés ré-optimisés.";
    cellLayerGroup.clearLayers();
    undoStack.length = 0;
    redoStack.length = 0;
    await loadCells();
    findNeighbours();
    state = await getJSON(`/api/plans/${planId}/editor`);
    renderState();
  } catch (e) {
    $("job-stage").textContent = "";
    showError(`Ré-optimisation impossible : ${e.message}`);
  } finally {
    frozen = false;
    renderButtons();
    $("reoptimise").disabled = false;
  }
}

async function save(event) {
  event.preventDefault();
  await queue;
  const form = new FormData($("save-form"));
  clearRefusal($("save-form"));
  $("save-error").textContent = "";
  try {
    const saved = await postJSON(`/api/plans/${planId}/save`, {
      version: state.version, comment: String(form.get("comment")), name: String(form.get("name") || "") || null,
    });
    location.href = `/secteurs?csp=${plan.csp_id}&plan=${saved.id}`;
  } catch (e) {
    if (e.status === 409) showError(refusal(e));
    else showRefusal($("save-form"), e, $("save-error"), "Enregistrement impossible");
  }
}

async function discard() {
  if (!confirm("Abandonner toutes les modifications de cette copie de travail ?")) return;
  try {
    await queue;
    await sendJSON("DELETE", `/api/plans/${planId}?version=${state.version}`);
    location.href = `/secteurs?csp=${plan.csp_id}${plan.parent_id ? `&plan=${plan.parent_id}` : ""}`;
  } catch (e) {
    showError(`Abandon impossible : ${e.message}`);
  }
}

function bindControls() {
  $("tool-brush").addEventListener("click", () => setTool("brush"));
  $("tool-pan").addEventListener("click", () => setTool("pan"));
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("reoptimise").addEventListener("click", reoptimise);
  $("save-form").addEventListener("submit", save);
  $("discard").addEventListener("click", discard);
  // Pointer events: a mouse, a finger or a pen paint alike (touch-action: none on the
  // brush's map keeps the browser from scrolling instead).
  const container = map.getContainer();
  const at = (e) => map.mouseEventToContainerPoint(e);
  container.addEventListener("pointerdown", (e) => {
    if (tool !== "brush" || e.button !== 0 || !e.isPrimary) return;
    painting = true;
    lastPoint = null;
    try { container.setPointerCapture(e.pointerId); } catch { /* a synthetic pointer */ }
    const h3 = cellAt(map.containerPointToLatLng(at(e)));
    if (h3) select(h3);
    paintAlong(at(e));
  });
  container.addEventListener("pointermove", (e) => { if (painting && e.isPrimary) paintAlong(at(e)); });
  document.addEventListener("pointerup", endStroke);
  container.addEventListener("pointercancel", endStroke);
  document.addEventListener("mouseup", endStroke);
  // not map.on("mouseout"): layers' mouseout events bubble to the map at every cell
  container.addEventListener("pointerleave", (e) => { if (!container.hasPointerCapture?.(e.pointerId)) endStroke(); });
  $("brush-sizes").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-brush]");
    if (button) setBrush(button.dataset.brush);
  });
  $("select-centre").addEventListener("click", selectCentre);
  $("move-form").addEventListener("submit", moveSelected);
  // On the map, Entrée selects the cell at its centre (the arrows move the map).
  container.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target === container) { e.preventDefault(); selectCentre(); }
  });
  document.addEventListener("keydown", (e) => {
    // leave Ctrl+Z to text fields (the comment…), not to radio buttons
    if (!(e.ctrlKey || e.metaKey) || e.target.matches("textarea, input:not([type=radio])")) return;
    const key = e.key.toLowerCase();  // Shift and Caps Lock give "Z"
    if (key === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
    if (key === "y" || (key === "z" && e.shiftKey)) { e.preventDefault(); redo(); }
  });
  $("editor-sectors").addEventListener("change", (e) => {
    if (e.target.name === "target") target = Number(e.target.value);
  });
  $("editor-sectors").addEventListener("click", (e) => {
    const button = e.target.closest("button.lock");
    if (button) setLock(Number(button.dataset.sector), button.getAttribute("aria-pressed") !== "true");
  });
}

async function main() {
  try {
    if (!planId) throw new Error("aucun plan indiqué (paramètre ?plan=)");
    plan = await getJSON(`/api/plans/${planId}`);
    $("back").href = `/secteurs?csp=${plan.csp_id}&plan=${plan.parent_id ?? plan.id}`;
    if (plan.status !== "editing") {
      setStatus(`Ce plan est « ${STATUS_LABELS[plan.status]} » : on ne modifie qu'une copie de travail (bouton « Modifier » de la page Secteurs).`, true);
      return;
    }
    $("plan-title").textContent = plan.name;
    parent = plan.parent_id ? await getJSON(`/api/plans/${plan.parent_id}`).catch(() => null) : null;
    $("plan-origin").textContent = parent
      ? `Copie de travail de « ${parent.name} » (${PLAN_STATUSES[parent.status]}), qui reste inchangé.`
      : "Copie de travail.";
    const [outline, communes] = await Promise.all([
      getJSON(`/api/csp/${plan.csp_id}`), getJSON(`/api/communes?csp=${plan.csp_id}`),
    ]);
    showBaseMapLegend(map, plan.csp_id);  // the CSP's own base layers
    state = await getJSON(`/api/plans/${planId}/editor`);
    target = state.metrics.sectors.find((s) => !locked(s.sector))?.sector ?? 0;
    await loadCells();
    // What « non enregistré » counts against: the saved plan's cells (or the copy's own
    // cells as loaded, when it has no parent any more).
    const savedCells = parent ? await getJSON(`/api/plans/${parent.id}/cells`).catch(() => null) : null;
    original = savedCells
      ? new Map(savedCells.features.map((f) => [f.properties.h3, f.properties.sector]))
      : new Map([...cells].map(([h3, c]) => [h3, c.sector]));
    selectedLayer.addTo(map);
    labelLayer.addTo(map);
    findNeighbours();
    drawTerritory(map, outline, communes, { padding: [10, 10], csp: plan.csp_id });
    bindControls();
    setTool("brush");
    setBrush("cell");
    renderState();
    setStatus("");
    window.psqEditor = { map, cells, selected: () => selected, labels: () => [...labelCells] };  // a handle for the browser tests
    document.body.dataset.ready = "true";
  } catch (e) {
    setStatus(`Impossible de charger l'éditeur : ${e.message}`, true);
  }
}

main();
