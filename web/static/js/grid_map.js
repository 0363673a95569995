// Grid and layers page: a choropleth of any cell attribute, layers to toggle and to upload,
// the cell boundaries a barrier blocks; no tiles.
import { bindCspSelect, esc, fmt, getJSON, percent, postForm, postFormWithProgress } from "./api.js";
import { communeName, rememberCommunes } from "./sectors.js";
import { $, LEGEND_OUTLINE, PALETTE, addLegend, createMap, legendRow, setStatus, showBaseMapLegend, showOutline, statusError } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const RAMP = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
const CLASS_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"];
const SOURCE_LABELS = { grid: "Carreaux Filosofi", commune: "Population communale répartie", "grid+commune": "Les deux", none: "Aucune (inhabité)" };
const BARRIER_COLOURS = { motorway: "#c0392b", trunk: "#e67e22", railway: "#2c3e50", river: "#2980b9", canal: "#17a2b8", tram: "#8e44ad" };
const BARRIER_LABELS = { motorway: "Autoroute", trunk: "Voie express", railway: "Voie ferrée", river: "Rivière", canal: "Canal", tram: "Tramway" };
const barrierColour = (cls) => BARRIER_COLOURS[cls] ?? "#7f8c8d";
// A layer's kind in words (geo.value_labels.LAYER_KINDS, as the import form says them),
// without the form's examples in brackets: « (Grille de population, 529 objets) ».
const kindLabel = (kind) => (PALETTE.layer_kinds[kind] ?? kind).replace(/ \(.*\)$/, "");

const map = createMap();
const legend = addLegend(map);

let cellLayer = null;
let outlineLayer = null;
let edgeLayer = null;
const overlays = new Map();
let cells = null;
let edges = null;
let current = null; // { csp, res, units }
const UNIT_HELP = {
  h3: "Unités élémentaires du découpage : hexagones H3 découpés au contour de la CSP.",
  blocks: "Unités élémentaires du découpage : îlots délimités par les rues, voies ferrées et cours d'eau " +
    "(hors ponts et tunnels), redécoupés par les hexagones H3 quand ils dépassent deux cellules.",
};
const unitNoun = (units) => (units === "blocks" ? "îlots" : "cellules");
let cellLegend = "";

function value(p, attr) {
  if (attr === "density") return p.area_m2 > 0 ? (p.population / p.area_m2) * 1e6 : 0;
  return p[attr];
}

function format(attr, v) {
  if (v == null) return "—";
  if (attr === "poverty_rate") return percent(v);
  if (attr === "source") return SOURCE_LABELS[v] ?? v;
  return fmt.dec1.format(v);
}

// Synthetic problems are counted like real ones: say so wherever the count is shown.
function problemsLabel(total, synthetic) {
  if (!synthetic) return "Problèmes enregistrés";
  if (synthetic === total) return "Problèmes enregistrés (fictifs)";
  return `Problèmes enregistrés (dont ${fmt.int.format(synthetic)} fictifs)`;
}

function labelProblems() {
  const sum = (key) => cells.features.reduce((n, f) => n + f.properties[key], 0);
  const total = sum("problems");
  const option = $("attr-select").querySelector('option[value="problems"]');
  option.textContent = problemsLabel(total, sum("synthetic_problems"));
  option.title = `${fmt.int.format(total)} problématique(s) de la CSP, chacune comptée dans la cellule de son point d'ancrage`;
}

function tooltipExtra(attr, p) {
  if (attr !== "problems" || !p.synthetic_problems) return "";
  return p.synthetic_problems === p.problems ? " (fictifs)" : ` (dont ${fmt.int.format(p.synthetic_problems)} fictifs)`;
}

function quantileBreaks(values) {
  const sorted = values.filter((v) => v != null && v > 0).sort((a, b) => a - b);
  if (!sorted.length) return [];
  return [0.2, 0.4, 0.6, 0.8].map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
}

function drawCells() {
  if (!cells) return;
  const attr = $("attr-select").value;
  const label = $("attr-select").selectedOptions[0].textContent;
  const categorical = attr === "source" || attr === "component";
  let colour;
  let legendRows;
  if (categorical) {
    const cats = [...new Set(cells.features.map((f) => value(f.properties, attr)))].sort();
    const colourOf = new Map(cats.map((c, i) => [c, CLASS_COLOURS[i % CLASS_COLOURS.length]]));
    colour = (v) => colourOf.get(v);
    legendRows = cats.map((c) => [colourOf.get(c), attr === "component" ? `Composante ${c}` : format(attr, c)]);
  } else {
    const breaks = quantileBreaks(cells.features.map((f) => value(f.properties, attr)));
    colour = (v) => {
      if (v == null || v <= 0) return "#f2f2f2";
      const i = breaks.findIndex((b) => v <= b);
      return RAMP[i === -1 ? RAMP.length - 1 : i];
    };
    const bounds = [0, ...breaks];
    legendRows = [["#f2f2f2", "0 ou inconnu"], ...RAMP.slice(0, breaks.length + 1).map((c, i) =>
      [c, i < breaks.length ? `≤ ${format(attr, breaks[i])}` : `> ${format(attr, bounds[bounds.length - 1])}`])];
  }
  cellLayer?.remove();
  cellLayer = L.geoJSON(cells, {
    style: (f) => ({ color: "#999", weight: 0.3, fillColor: colour(value(f.properties, attr)), fillOpacity: 0.85, className: "cell" }),
    onEachFeature: (f, layer) => {
      const p = f.properties;
      layer.bindTooltip(() =>
        `<strong>${label}</strong> : ${format(attr, value(p, attr))}${tooltipExtra(attr, p)}<br>Population : ${fmt.dec1.format(p.population)}` +
        `<br>Commune : ${esc(communeName(p.commune))}`, { sticky: true });
    },
  }).addTo(map);
  cellLayer.bringToBack();
  cellLegend = `<h3>${label}</h3>` +
    legendRows.map(([c, t]) => legendRow(c, t)).join("") + LEGEND_OUTLINE;
  renderLegend();
}

function renderLegend() {
  let html = cellLegend;
  if (edgeLayer && map.hasLayer(edgeLayer) && edges.features.length) {
    const classes = [...new Set(edges.features.map((f) => f.properties.barrier))].sort();
    html += "<h3>Limites bloquées par une barrière</h3>" + classes.map((c) =>
      `<div class="edge-key"><i class="line" style="background:${barrierColour(c)}"></i>${esc(BARRIER_LABELS[c] ?? c)}</div>`).join("");
  }
  legend.getContainer().innerHTML = html;
}

// The boundaries shared by neighbouring cells that a barrier cuts (no crossing near).
async function showEdges(on) {
  edgeLayer?.remove();
  edgeLayer = null;
  $("edges-summary").textContent = "";
  if (on && current) {
    const { csp, res, units } = current;
    const data = await getJSON(`/api/csp/${csp.id}/edges?res=${res}&units=${units}&blocked=true`);
    if (current?.csp !== csp || current?.res !== res || current?.units !== units || !$("edges-toggle").checked) return;
    edges = data;
    edgeLayer = L.geoJSON(edges, {
      style: (f) => ({ color: barrierColour(f.properties.barrier), weight: 4, opacity: 0.95, lineCap: "butt", className: "blocked-edge" }),
      onEachFeature: (f, l) => l.bindTooltip(
        `Limite bloquée : ${esc(BARRIER_LABELS[f.properties.barrier] ?? f.properties.barrier)} sans franchissement proche` +
        `<br>${fmt.dec1.format(f.properties.shared_m)} m<br><small>${esc(f.properties.a)} | ${esc(f.properties.b)}</small>`, { sticky: true }),
    }).addTo(map);
    $("edges-summary").textContent = edges.features.length
      ? `${fmt.int.format(edges.features.length)} limite(s) entre ${units === "blocks" ? "îlots voisins" : "cellules voisines"} coupée(s) par une barrière.`
      : "Aucune limite bloquée : pas de barrière sans franchissement dans cette grille.";
  }
  renderLegend();
}

function layerStyle(kind) {
  if (kind === "barriers") return (f) => ({ color: BARRIER_COLOURS[f.properties.category] ?? "#7f8c8d", weight: 2.5, dashArray: f.properties.bridge || f.properties.tunnel ? "4 4" : null });
  if (kind === "population_grid") return () => ({ color: "#555", weight: 0.6, fill: false });
  if (kind === "links") return () => ({ color: "#1f3a93", weight: 3, dashArray: "8 6" });
  return () => ({ color: "#16a085", weight: 1.5, fillOpacity: 0.1 });
}

async function toggleLayer(layer, on) {
  if (!on) { overlays.get(layer.id)?.remove(); return; }
  if (!overlays.has(layer.id)) {
    const csp = outlineLayer.getBounds();
    const bbox = [csp.getWest(), csp.getSouth(), csp.getEast(), csp.getNorth()].map((v) => v.toFixed(5)).join(",");
    const data = await getJSON(`/api/layers/${layer.id}/features?bbox=${bbox}`);
    overlays.set(layer.id, L.geoJSON(data, {
      style: layerStyle(layer.kind),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 5, color: "#16a085", fillOpacity: 0.9 }),
      onEachFeature: (f, l) => l.bindTooltip(esc(f.properties.name ?? f.properties.category ?? f.properties.code ?? layer.name)),
    }));
  }
  overlays.get(layer.id).addTo(map);
}

async function loadGrid(csp, res, units) {
  setStatus(`Chargement des ${unitNoun(units)}…`);
  current = { csp, res, units };
  cells = await getJSON(`/api/csp/${csp.id}/cells?res=${res}&units=${units}`);
  labelProblems();
  drawCells();
  await showEdges($("edges-toggle").checked);
  setStatus("");
}

function renderLayers(layers) {
  const list = $("layer-list");
  list.replaceChildren(...layers.data.map((layer) => {
    const row = document.createElement("label");
    row.className = "layer-row";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.dataset.layerId = layer.id;
    box.checked = overlays.has(layer.id) && map.hasLayer(overlays.get(layer.id));
    box.addEventListener("change", () => toggleLayer(layer, box.checked).catch(statusError));
    row.append(box, ` ${layer.name} `);
    const meta = document.createElement("small");
    meta.textContent = `(${kindLabel(layer.kind)}, ${fmt.int.format(layer.features_in_csp)} objets)`;
    row.append(meta);
    return row;
  }));
  if (!layers.data.length) list.textContent = "Aucune couche importée pour cette CSP (formulaire ci-dessous ou psq import-layer).";
  const qpv = Object.entries(layers.qpv_by_commune);
  $("qpv-note").textContent = qpv.length
    ? `Quartiers prioritaires de la ville (QPV) : contours non publiés, connus seulement au niveau communal — ${qpv.map(([c, names]) => `${communeName(c)} : ${names.length}`).join(", ")}.`
    : "";
}

// Upload a layer (POST /api/layers); on success it joins the toggles, shown at once.
async function uploadLayer(event) {
  event.preventDefault();
  $("layer-error").textContent = "";
  clearRefusal($("layer-form"));
  $("layer-result").replaceChildren();
  const form = new FormData($("layer-form"));
  for (const key of ["crs", "default_class"]) {
    const v = String(form.get(key) ?? "").trim();
    if (v) form.set(key, v); else form.delete(key);
  }
  $("layer-submit").disabled = true;
  const shown = showProgress("layer-progress");
  try {
    const created = await postFormWithProgress("/api/layers", form, shown).finally(shown.done);
    const layers = await getJSON(`/api/csp/${current.csp.id}/layers`);
    renderLayers(layers);
    const layer = layers.data.find((l) => l.id === created.id);
    const lines = [`Couche « ${created.name} » importée (${kindLabel(created.kind)}, ${created.source_crs}) : ` +
      `${fmt.int.format(created.feature_count)} objet(s), dont ${fmt.int.format(layer?.features_in_csp ?? 0)} dans la CSP.`];
    if (!layer) lines.push("Aucun objet dans cette CSP : la couche n'apparaît pas dans sa liste.");
    if (created.kind === "barriers") lines.push("La contiguïté des cellules n'en tiendra compte qu'une fois la grille reconstruite (psq grid build).");
    lines.push(...created.warnings.map((w) => `Attention : ${w}`));
    $("layer-result").replaceChildren(...lines.map((t) => Object.assign(document.createElement("p"), { textContent: t })));
    $("layer-form").reset();
    refreshBaseMap();
    if (layer) {
      $("layer-list").querySelector(`input[data-layer-id="${layer.id}"]`).checked = true;
      await toggleLayer(layer, true);
    }
  } catch (e) {
    showRefusal($("layer-form"), e, $("layer-error"), "Import refusé");
  } finally {
    $("layer-submit").disabled = false;
  }
}

// An upload's progress in the <progress> of `id` and its text: « Envoi : 45 % » while the
// file goes, then « Lecture et contrôle du fichier… » while the server reads and checks it
// (no measure of that: the bar runs without a value); hidden once the answer is in.
function showProgress(id) {
  const box = $(id);
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  bar.value = 0;
  text.textContent = "Envoi : 0 %";
  box.hidden = false;
  return {
    onProgress: (fraction) => {
      bar.value = fraction;
      text.textContent = `Envoi : ${Math.floor(fraction * 100)} %`;
    },
    onSent: () => {
      bar.removeAttribute("value");
      text.textContent = "Lecture et contrôle du fichier…";
    },
    done: () => { box.hidden = true; },
  };
}

// The base map after an import: its tiles drawn again, its legend counted again.
function refreshBaseMap() {
  map.baseMap?.redraw();
  if (current) showBaseMapLegend(map, current.csp.id);
}

// An address file (BAN or BANO) for the geocoder and the base map: added and updated,
// or replacing the communes' addresses when the box is ticked.
async function uploadAddresses(event) {
  event.preventDefault();
  $("address-error").textContent = "";
  $("address-result").textContent = "";
  clearRefusal($("address-form"));
  const form = new FormData($("address-form"));
  if (!form.get("replace")) form.delete("replace");
  $("address-submit").disabled = true;
  try {
    const done = await postForm("/api/addresses/import", form);
    $("address-result").textContent = `${fmt.int.format(done.imported)} adresse(s) lue(s) : ${fmt.int.format(done.added)} ajoutée(s), ` +
      `${fmt.int.format(done.updated)} mise(s) à jour, ${fmt.int.format(done.removed)} retirée(s).`;
    $("address-form").reset();
    refreshBaseMap();
  } catch (e) {
    showRefusal($("address-form"), e, $("address-error"), "Import refusé");
  } finally {
    $("address-submit").disabled = false;
  }
}

async function showCsp(csp) {
  setStatus("Chargement…");
  showBaseMapLegend(map, csp.id);
  const [outline, grids, layers, communes] = await Promise.all([
    getJSON(`/api/csp/${csp.id}`), getJSON(`/api/csp/${csp.id}/grids`), getJSON(`/api/csp/${csp.id}/layers`),
    getJSON(`/api/communes?csp=${csp.id}`),
  ]);
  rememberCommunes(communes);
  outlineLayer?.remove();
  outlineLayer = showOutline(map, outline, { style: { className: "csp-outline" } });
  overlays.forEach((l) => l.remove());
  overlays.clear();
  current = { csp, res: null, units: "h3" };
  renderLayers(layers);

  const select = $("res-select");
  const unitsSelect = $("units-select");
  // The units selector appears once a street-block grid exists (psq grid build --units blocks).
  const kinds = new Set(grids.data.map((g) => g.units));
  $("units-field").hidden = !kinds.has("blocks");
  for (const option of unitsSelect.options) option.disabled = !kinds.has(option.value);
  if (!kinds.has(unitsSelect.value)) unitsSelect.value = kinds.has("h3") ? "h3" : "blocks";
  $("edges-toggle").disabled = !grids.count;
  if (!grids.count) {
    select.replaceChildren(new Option("aucune grille", ""));
    $("grid-summary").textContent = "Aucune grille : « psq grid build --csp … --res 9 ».";
    cellLayer?.remove();
    cells = null;
    cellLegend = "";
    await showEdges(false);
    setStatus("");
    document.body.dataset.ready = "true";
    return;
  }
  const fillResolutions = () => {
    const units = unitsSelect.value;
    select.replaceChildren(...grids.data.filter((g) => g.units === units).map((g) =>
      new Option(`Résolution ${g.resolution} — ${fmt.int.format(g.cell_count)} ${unitNoun(units)}`, g.resolution)));
    $("res-help").textContent = UNIT_HELP[units];
  };
  const describe = () => {
    const g = grids.data.find((x) => x.units === unitsSelect.value && String(x.resolution) === select.value);
    // Plain words: « d'un seul tenant » for one connected component.
    const pieces = g.component_count === 1 ? "d'un seul tenant" : `en ${g.component_count} morceaux séparés`;
    $("grid-summary").textContent = `${fmt.int.format(g.cell_count)} ${unitNoun(g.units)}, ${pieces} ; ` +
      `${fmt.int.format(g.blocked_edge_count)} passage(s) entre voisines coupé(s) par une barrière (voie ferrée, cours d'eau…).`;
  };
  const reload = () => { describe(); loadGrid(csp, select.value, unitsSelect.value).catch(statusError); };
  select.onchange = reload;
  unitsSelect.onchange = () => { fillResolutions(); reload(); };
  fillResolutions();
  describe();
  await loadGrid(csp, select.value, unitsSelect.value);
  document.body.dataset.ready = "true";
}

async function main() {
  try {
    $("attr-select").addEventListener("change", drawCells);
    $("edges-toggle").addEventListener("change", (e) => showEdges(e.target.checked).catch(statusError));
    $("layer-form").addEventListener("submit", uploadLayer);
    $("address-form").addEventListener("submit", uploadAddresses);
    if (!(await bindCspSelect($("csp-select"), showCsp, statusError))) {
      setStatus("Aucune circonscription importée.", true);
    }
  } catch (e) {
    setStatus(`Impossible de charger la carte : ${e.message}`, true);
  }
}

main();
