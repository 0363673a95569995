// Cartographie des problématiques: for a CSP or one GPO's sectors, over a period, the
// problems (clustered markers coloured by category), the heat (kernel density bands), the
// problems per H3 cell, the Gi* hot and cold spots, how hot spots evolved, a monthly trend
// by category and the open problems with their actions. Everything is computed by the
// API; the map needs no tiles. What the caller's role may not read is left out: the
// markers and the open problems (records) for the état-major, the sector outlines (plans)
// for the GPOs' members, who see their own GPOs only (no whole-CSP map).
import { bindCspSelect, day, esc, explained, fmt, getJSON, isoDay, percent, today } from "./api.js";
import { drawDeclaredLinks, sectorLabel } from "./sectors.js";
import { $, CATEGORY_COLOURS, OUTLINE_STYLE, PALETTE, addLegend, can, categoryColour, createMap, legendRow, setStatus, showBaseMapLegend, showError } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const RECORDS = can("problem_records");  // markers, open problems, meeting packs
const PLANS = can("sectors_read");  // the adopted plan's sector outlines

const MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
const LEVELS = [3, 2, 1, -1, -2, -3];
const LEVEL_LABELS = PALETTE.level_labels;  // geo.hotspots' labels, from the server
const TREND_LABELS = PALETTE.trend_labels;
const COUNT_COLOURS = ["#edf8fb", "#b3cde3", "#8c96c6", "#8856a7", "#810f7c"];

// No tile layer sets a maximum zoom, which the marker clusters need.
const map = createMap({ maxZoom: 19 });
const canvas = L.canvas({ padding: 0.2 });
const overlays = {
  markers: L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 45 }),
  heat: L.layerGroup(),
  cells: L.layerGroup(),
  hotspots: L.layerGroup(),
  trend: L.layerGroup(),
};
const sectorLayer = L.layerGroup().addTo(map);
L.control.layers(null, {
  "Problématiques (regroupées)": overlays.markers,
  "Chaleur (densité de noyau)": overlays.heat,
  "Nombre de problématiques par maille": overlays.cells,
  "Points chauds et froids": overlays.hotspots,
  "Évolution des points chauds": overlays.trend,
}, { collapsed: false, position: "topright" }).addTo(map);
// By default the hot spots and the grouped problems only: the heat, the counts and the
// trends, drawn over them, would hide one another (the layer switch adds them).
for (const name of ["hotspots", "markers"]) overlays[name].addTo(map);

const legend = addLegend(map, "legend cartography-legend");

let csp = null;
let taxonomy = null;
let gpos = [];
let plan = null;
let links = null;  // the declared links' layer (drawDeclaredLinks)
let gpoBound = false;  // a chef or partner: its own GPOs only

// A Gi* p-value said in words, French decimals (the z-score stays in the API).
const chance = (p) => (p < 0.001 ? "moins de 0,1 %" : `${fmt.dec1.format(p * 100)} %`);

function checkboxes(box, entries, name) {
  box.append(...entries.map(([code, label]) => {
    const row = document.createElement("label");
    row.className = "check";
    row.innerHTML = `<input type="checkbox" name="${name}" value="${esc(code)}" checked> ${esc(label)}`;
    return row;
  }));
}

function chosen(name) {
  const boxes = [...document.querySelectorAll(`input[name=${name}]`)];
  const on = boxes.filter((b) => b.checked).map((b) => b.value);
  if (!on.length) {
    const [label, msg] = name === "category" ? ["Catégories", "cochez au moins une catégorie"] : ["Statuts", "cochez au moins un statut"];
    throw Object.assign(new Error(`${label} : ${msg}`), { fields: [{ field: name, label, msg }] });
  }
  return on.length === boxes.length ? [] : on;  // all: no filter
}

function selectedGpo() {
  const id = Number($("gpo-select").value);
  return gpos.find((g) => g.id === id) ?? null;
}

function query(extra = {}) {
  const params = new URLSearchParams({ from: $("date-from").value, to: $("date-to").value });
  const gpo = selectedGpo();
  if (gpo) params.set("gpo", gpo.id);
  chosen("category").forEach((c) => params.append("category", c));
  chosen("status").forEach((s) => params.append("status", s));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

async function showCsp(next) {
  csp = next;
  showBaseMapLegend(map, csp.id);  // the CSP's own base layers
  $("error").textContent = "";
  const [gpoList, plans] = await Promise.all([
    getJSON(`/api/csp/${csp.id}/gpos`),
    PLANS ? getJSON(`/api/csp/${csp.id}/plans`) : { data: [] },
  ]);
  gpos = gpoList.data.filter((g) => g.active);
  const adopted = plans.data.find((p) => p.status === "adopted");
  plan = adopted ? await getJSON(`/api/plans/${adopted.id}`) : null;
  // Where sectors are shown, the declared links (ferries, bridges…) that join them.
  links?.remove();
  links = plan ? drawDeclaredLinks(map, csp.id, L.geoJSON(plan.sectors).getBounds()) : null;
  const wanted = Number(new URLSearchParams(location.search).get("gpo"));
  $("gpo-select").replaceChildren(
    ...(gpoBound ? [] : [new Option(`CSP ${csp.name} entière`, "")]),
    ...gpos.map((g) => new Option(g.name + (g.kind === "thematic" ? " (thématique)" : ""), g.id, false, g.id === wanted)),
  );
  if (!plan && PLANS) $("error").textContent = "Aucun plan de secteurs adopté : seule la carte de la CSP entière est disponible.";
  await refresh();
}

function drawSectors(gpo) {
  sectorLayer.clearLayers();
  if (!plan) return null;
  const inside = gpo ? new Set(gpo.sector == null ? gpo.sectors : [gpo.sector]) : null;
  let focus = null;
  L.geoJSON(plan.sectors, {
    interactive: false,
    style: (f) => {
      const mine = !inside || inside.has(f.properties.sector);
      return mine
        ? { ...OUTLINE_STYLE, className: "sector-focus" }
        : { color: "#8d99ae", weight: 1, dashArray: "4 3", fillColor: "#adb5bd", fillOpacity: 0.25, className: "sector-faded" };
    },
    onEachFeature: (f, layer) => {
      const mine = !inside || inside.has(f.properties.sector);
      sectorLabel(f, sectorLayer, mine ? "sector-label" : "sector-label faded");
      if (mine) focus = focus ? focus.extend(layer.getBounds()) : L.latLngBounds(layer.getBounds().getSouthWest(), layer.getBounds().getNorthEast());
    },
  }).addTo(sectorLayer);
  return focus;
}

function drawHeat(heat) {
  overlays.heat.clearLayers();
  L.geoJSON(heat, {
    renderer: canvas, interactive: false,
    style: (f) => ({ stroke: false, fillColor: PALETTE.heat[f.properties.band], fillOpacity: 0.6 }),
  }).addTo(overlays.heat);
  const bands = new Map(heat.features.map((f) => [f.properties.band, f.properties.density]));
  return [...bands.entries()].sort((a, b) => a[0] - b[0]).map(([band, density]) => ({ colour: PALETTE.heat[band], density }));
}

function countBreaks(counts) {
  const sorted = counts.filter((c) => c > 0).sort((a, b) => a - b);
  if (!sorted.length) return [];
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return [...new Set([1, q(0.5), q(0.75), q(0.9), q(0.97)])].sort((a, b) => a - b);
}

function drawCells(hotspots) {
  overlays.cells.clearLayers();
  overlays.hotspots.clearLayers();
  const breaks = countBreaks(hotspots.features.map((f) => f.properties.count));
  const classOf = (n) => breaks.filter((b) => n >= b).length - 1;
  L.geoJSON(hotspots, {
    filter: (f) => f.properties.count > 0,
    style: (f) => ({ color: "#555", weight: 0.4, fillColor: COUNT_COLOURS[classOf(f.properties.count)], fillOpacity: 0.7, className: "count-cell" }),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.count} problématique(s)`),
  }).addTo(overlays.cells);
  L.geoJSON(hotspots, {
    filter: (f) => f.properties.level !== 0,
    style: (f) => ({ color: f.properties.level > 0 ? "#67000d" : "#08306b", weight: 1, fillColor: PALETTE.hotspots[f.properties.level], fillOpacity: 0.7, className: "gi-cell" }),
    onEachFeature: (f, layer) => layer.bindTooltip(
      `${esc(f.properties.label)}<br>${f.properties.count} problématique(s) dans la maille, ` +
      `en comptant ses voisines : ${chance(f.properties.p)} d'être dû au hasard`),
  }).addTo(overlays.hotspots);
  return breaks;
}

function markerPopup(p) {
  return `<strong>${esc(p.title)}</strong>${p.synthetic ? ' <span class="badge warn">fictive</span>' : ""}<br>` +
    `${esc(p.category_label)}<br>Statut : ${esc(p.status_label)} (depuis le ${day(p.status_on)})<br>` +
    `Signalée le ${day(p.reported_on)} · priorité ${esc(p.priority)}` +
    `<br><a href="/problematiques?csp=${csp.id}&problem=${p.id}">Fiche de la problématique</a>`;
}

function drawMarkers(problems) {
  overlays.markers.clearLayers();
  const markers = problems.features.map((f) => {
    const centre = f.geometry.type === "Point"
      ? L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0])
      : L.geoJSON(f).getBounds().getCenter();
    const colour = categoryColour(f.properties.category);
    const marker = L.circleMarker(centre, { radius: 6, color: "#fff", weight: 1.5, fillColor: colour, fillOpacity: 0.95, className: "problem" });
    return marker.bindPopup(markerPopup(f.properties));
  });
  overlays.markers.addLayers(markers);
}

function drawTrendCells(comparison) {
  overlays.trend.clearLayers();
  L.geoJSON(comparison, {
    style: (f) => ({ color: PALETTE.trends[f.properties.trend], weight: 2.5, fillColor: PALETTE.trends[f.properties.trend], fillOpacity: 0.35, className: "trend-cell" }),
    onEachFeature: (f, layer) => layer.bindTooltip(
      `${esc(f.properties.label)} : ${f.properties.count_before} → ${f.properties.count_after} problématique(s)`),
  }).addTo(overlays.trend);
}

// The legend shows the sections of the layers on the map, and follows the layer switches.
let legendState = null;
function drawLegend(categories = legendState?.categories, heatBands = legendState?.heatBands, breaks = legendState?.breaks, tooFew = legendState?.tooFew) {
  legendState = { categories, heatBands, breaks, tooFew };
  const on = (name) => map.hasLayer(overlays[name]);
  const div = legend.getContainer();
  const cats = Object.entries(taxonomy.categories).filter(([code]) => categories.has(code));
  const section = (title, rows) => `<section><h3>${title}</h3>${rows.join("")}</section>`;
  div.innerHTML = [
    on("markers") && cats.length ? section("Catégories", cats.map(([code, label]) => legendRow(CATEGORY_COLOURS[code], esc(label)))) : "",
    on("hotspots") ? section(explained("Points chauds et froids", "Getis-Ord Gi*, seuils corrigés du taux de fausses découvertes", "une cellule est chaude quand elle et ses voisines comptent bien plus de problématiques que le hasard ne l'expliquerait ; les seuils sont relevés pour que peu de cellules soient déclarées chaudes par simple hasard"), legendState.tooFew
      ? [`<p class="too-few">${esc(legendState.tooFew)}</p>`]
      : LEVELS.map((l) => legendRow(PALETTE.hotspots[l], LEVEL_LABELS[l]))) : "",
    on("heat") && heatBands.length ? section("Chaleur (problématiques/km²)", heatBands.map((b) => legendRow(b.colour, `${fmt.int.format(b.density)} et plus`))) : "",
    on("cells") && breaks.length ? section("Nombre par cellule", breaks.map((b, i) => legendRow(COUNT_COLOURS[i], `${b} et plus`))) : "",
    on("trend") ? section("Évolution des points chauds", Object.entries(TREND_LABELS).map(([k, v]) => legendRow(PALETTE.trends[k], v))) : "",
  ].join("");
}
map.on("overlayadd overlayremove", () => legendState && drawLegend());

// Below geo.hotspots.MIN_HOTSPOT_PROBLEMS problems no hot spot is computed: say so.
const tooFewText = (meta) =>
  `Trop peu de données pour calculer des points chauds (${fmt.int.format(meta.problems)} problématique(s), il en faut au moins ${meta.min_hotspot_problems}).`;

function keyFigures(meta) {
  const period = `du ${day(meta.date_from)} au ${day(meta.date_to)}`;
  $("key-figures").innerHTML = [
    [fmt.int.format(meta.problems), `problématiques ${period}`],
    ...(meta.hotspots_computed ? [
      [fmt.int.format(meta.hot_cells), "cellules en point chaud"],
      [fmt.int.format(meta.cold_cells), "cellules en point froid"],
    ] : [["—", tooFewText(meta)]]),
    [meta.bandwidth_m == null ? "—" : `${fmt.int.format(meta.bandwidth_m)} m`, explained("rayon de lissage de la carte de chaleur", "règle de Silverman", "le rayon est choisi d'après l'étalement des problématiques et leur nombre")],
  ].map(([v, l]) => `<div><strong>${v}</strong><span>${l}</span></div>`).join("");
  $("synthetic-banner").hidden = meta.synthetic_problems === 0;
}

function comparisonText(c) {
  const counts = Object.fromEntries(Object.keys(TREND_LABELS).map((k) => [k, 0]));
  c.features.forEach((f) => { counts[f.properties.trend] += 1; });
  const p = c.prediction;
  const periods = `Du ${day(c.after.date_from)} au ${day(c.after.date_to)}, comparé à la période du ${day(c.before.date_from)} au ${day(c.before.date_to)}.`;
  const pai = p.pai == null
    ? "Aucun point chaud dans la période précédente : l'indice de prédiction n'est pas calculable."
    : `Les ${p.hotspot_cells} cellules chaudes de la période précédente (${percent(p.area_share)} de la surface) ` +
      `ont concentré ${percent(p.hit_rate)} des ${p.problems} problématiques récentes, ` +
      explained(`soit ${fmt.dec1.format(p.pai)} fois plus qu'une surface égale prise au hasard`, "PAI (indice de précision de la prédiction)", "part des problématiques divisée par la part de la surface ; 1 = pas mieux que le hasard") +
      ` et ${percent(p.pei ?? 0)} ` + explained("du meilleur résultat possible sur la même surface.", "PEI (indice d'efficacité de la prédiction)", "problématiques dans les cellules chaudes divisées par le plus grand nombre que des cellules de même surface auraient pu compter ; 100 % = le mieux possible");
  $("comparison-text").innerHTML = `${esc(periods)} ${pai}`;
  $("comparison-counts").innerHTML = Object.entries(TREND_LABELS).map(([k, v]) =>
    `<li><i class="dot" style="background:${PALETTE.trends[k]}"></i>${v} : ${counts[k]} cellule(s)</li>`).join("");
}

function trendChart(trend) {
  const width = 360, height = 170, left = 28, bottom = 28, top = 8;
  const totals = trend.months.map((_, i) => trend.series.reduce((s, x) => s + x.counts[i], 0));
  const max = Math.max(1, ...totals);
  const step = (width - left) / Math.max(1, trend.months.length);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  let bars = "";
  trend.months.forEach((m, i) => {
    let base = 0;
    for (const s of trend.series) {
      const n = s.counts[i];
      if (!n) continue;
      bars += `<rect x="${(left + i * step + 1).toFixed(1)}" y="${y(base + n).toFixed(1)}" width="${(step - 2).toFixed(1)}" ` +
        `height="${(y(base) - y(base + n)).toFixed(1)}" fill="${CATEGORY_COLOURS[s.category]}"><title>${esc(s.label)} — ${MONTHS[Number(m.slice(5)) - 1]} ${m.slice(0, 4)} : ${n}</title></rect>`;
      base += n;
    }
  });
  const every = Math.ceil(trend.months.length / 8);
  const labels = trend.months.map((m, i) => (i % every === 0
    ? `<text x="${(left + i * step + step / 2).toFixed(1)}" y="${height - 14}" text-anchor="middle">${MONTHS[Number(m.slice(5)) - 1]}</text>` +
      (i === 0 || m.endsWith("-01") || (i > 0 && trend.months[i - every]?.slice(0, 4) !== m.slice(0, 4))
        ? `<text x="${(left + i * step + step / 2).toFixed(1)}" y="${height - 2}" text-anchor="middle">${m.slice(0, 4)}</text>` : "")
    : "")).join("");
  const axis = `<text x="${left - 4}" y="${y(max) + 4}" text-anchor="end">${max}</text><text x="${left - 4}" y="${y(0)}" text-anchor="end">0</text>` +
    `<line x1="${left}" x2="${width}" y1="${y(0)}" y2="${y(0)}" stroke="#999"/>`;
  // A legend, and the same figures as text for those who cannot see the chart.
  const key = trend.series.map((s) => `<span><i class="dot" style="background:${CATEGORY_COLOURS[s.category]}"></i>${esc(s.label)} (${s.counts.reduce((a, b) => a + b, 0)})</span>`).join("");
  // (in a hidden box: a table takes its content's width, which widened the page)
  const table = `<div class="visually-hidden"><table><caption>Problématiques signalées par mois</caption><thead><tr><th>Mois</th>` +
    trend.series.map((s) => `<th>${esc(s.label)}</th>`).join("") + "</tr></thead><tbody>" +
    trend.months.map((m, i) => `<tr><th>${MONTHS[Number(m.slice(5)) - 1]} ${m.slice(0, 4)}</th>${trend.series.map((s) => `<td>${s.counts[i]}</td>`).join("")}</tr>`).join("") +
    "</tbody></table></div>";
  $("trend-chart").innerHTML = `<svg viewBox="0 0 ${width} ${height}" width="100%" aria-hidden="true">${bars}${labels}${axis}</svg>` +
    `<div class="trend-legend">${key}</div>${table}` +
    `<p class="hint">${trend.months.length ? `Total : ${totals.reduce((a, b) => a + b, 0)} problématique(s) sur ${trend.months.length} mois.` : ""}</p>`;
}

// The open problems: all of them (the first 100) beside the map of a wide screen; on a
// phone, under the map, folded behind their count, then 10 at a time.
const PHONE = window.matchMedia("(max-width: 800px)");
const PHONE_STEP = 10;
const foldOpen = (open) => {
  $("open-toggle").setAttribute("aria-expanded", String(open));
  $("open-body").hidden = !open;
};

// Show the list's first `shown` items, and the button that shows the next ones.
function showOpenItems(shown) {
  const items = [...$("open-problems").querySelectorAll(":scope > li[data-problem]")];
  items.forEach((li, i) => { li.hidden = i >= shown; });
  const next = Math.min(PHONE_STEP, items.length - shown);
  $("open-more").hidden = next <= 0;
  const beyond = $("open-problems").querySelector(":scope > li.beyond");
  if (beyond) beyond.hidden = next > 0;
  $("open-more").textContent = next > 0 ? `Voir les ${next} suivantes (${items.length - shown} non affichées)` : "";
  $("open-more").dataset.shown = String(shown);
}

function openProblems(list) {
  $("open-count").textContent = String(list.count);
  $("open-problems").innerHTML = list.data.slice(0, 100).map((p) => {
    const actions = p.actions.map((a) =>
      `<li class="${a.overdue ? "overdue" : ""}">${esc(a.type_label)}${a.lead_partner ? ` — ${esc(a.lead_partner)}` : ""}` +
      `${a.due_on ? ` · échéance ${day(a.due_on)}` : ""}${a.overdue ? " <strong>(en retard)</strong>" : ""}</li>`).join("");
    return `<li data-problem="${p.id}"><span class="swatch" style="background:${CATEGORY_COLOURS[p.category]}"></span>` +
      `<strong><a href="/problematiques?csp=${csp.id}&problem=${p.id}">${esc(p.title)}</a></strong>${p.synthetic ? ' <span class="badge warn">fictive</span>' : ""}` +
      `${p.priority === "haute" ? ' <span class="badge urgent">priorité haute</span>' : ""}<br>` +
      `<small>${esc(p.category_label)} · ${esc(p.status_label)} depuis le ${day(p.status_on)} · signalée le ${day(p.reported_on)}</small>` +
      (actions ? `<ul>${actions}</ul>` : "<br><small>Aucune action décidée.</small>") + "</li>";
  }).join("") + (list.count > 100 ? `<li class="hint beyond">… et ${list.count - 100} autre(s) : voir la page Problématiques.</li>` : "") +
    (list.count ? "" : '<li class="hint">Aucune problématique ouverte dans ce périmètre.</li>');
  showOpenItems(PHONE.matches ? PHONE_STEP : 100);
}

function packLinks(gpo) {
  $("pack-links").hidden = false;
  $("pack-pdf").hidden = !gpo || !RECORDS;
  $("pack-html").hidden = !gpo || !RECORDS;
  if (gpo) {
    $("pack-pdf").href = `/gpo/${gpo.id}/reunion.pdf`;
    $("pack-html").href = `/gpo/${gpo.id}/reunion`;
  }
  $("folium-map").href = `/cartographie/carte.html?${query({ csp: csp.id })}`;
}

let refreshes = 0;  // only the latest refresh draws (the user may change GPO meanwhile)
async function refresh() {
  const mine = ++refreshes;
  $("error").textContent = plan ? "" : $("error").textContent;
  document.body.dataset.ready = "0";
  setStatus("Calcul de la cartographie…");
  const gpo = selectedGpo();
  const params = query();
  const url = new URL(location.href);
  url.search = new URLSearchParams({ csp: csp.id, ...(gpo ? { gpo: gpo.id } : {}) }).toString();
  history.replaceState(null, "", url);
  // The GPO's problems: its sectors, and for a thematic GPO its theme's categories.
  const problemParams = new URLSearchParams(params);
  problemParams.set("limit", "100000");
  const comparisonParams = new URLSearchParams(params);
  ["from", "to"].forEach((k) => comparisonParams.delete(k));
  comparisonParams.set("to", $("date-to").value);
  const base = `/api/csp/${csp.id}`;
  const [hotspots, heat, problems, trend, open, comparison] = await Promise.all([
    getJSON(`${base}/hotspots?${params}`),
    getJSON(`${base}/heat?${params}`),
    RECORDS ? getJSON(`${base}/problems?${problemParams}`) : { type: "FeatureCollection", features: [] },
    getJSON(`${base}/trend?${params}`),
    RECORDS ? getJSON(`${base}/open-problems?limit=100${gpo ? `&gpo=${gpo.id}` : ""}`) : null,
    getJSON(`${base}/hotspots/comparison?${comparisonParams}`),
  ]);
  if (mine !== refreshes) return;
  const focus = drawSectors(gpo);
  const heatBands = drawHeat(heat);
  const breaks = drawCells(hotspots);
  drawMarkers(problems);
  drawTrendCells(comparison);
  drawLegend(new Set(problems.features.map((f) => f.properties.category)), heatBands, breaks,
    hotspots.meta.hotspots_computed ? null : tooFewText(hotspots.meta));
  keyFigures(hotspots.meta);
  comparisonText(comparison);
  trendChart(trend);
  if (open) openProblems(open);
  packLinks(gpo);
  const bounds = focus ?? L.geoJSON(hotspots).getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
  setStatus("");
  Object.assign(document.body.dataset, {
    ready: "1", problems: String(problems.features.length), hotCells: String(hotspots.meta.hot_cells),
    heatBands: String(heat.features.length),
  });
}

async function main() {
  const [tax, me] = await Promise.all([getJSON("/api/taxonomy"), getJSON("/api/me")]);
  taxonomy = tax;
  gpoBound = me.gpo_ids.length > 0;
  $("open-section").hidden = !RECORDS;
  foldOpen(!PHONE.matches);
  $("open-toggle").addEventListener("click", () => foldOpen($("open-body").hidden));
  $("open-more").addEventListener("click", () => {
    const shown = Number($("open-more").dataset.shown);
    showOpenItems(shown + PHONE_STEP);
    $("open-problems").querySelectorAll(":scope > li[data-problem]")[shown]?.querySelector("a")?.focus();
  });
  checkboxes($("category-checks"), Object.entries(taxonomy.categories), "category");
  checkboxes($("status-checks"), Object.entries(taxonomy.statuses), "status");
  const search = new URLSearchParams(location.search);
  const to = today();
  $("date-to").value = search.get("to") ?? isoDay(to);
  $("date-from").value = search.get("from") ?? isoDay(new Date(to.getTime() - 364 * 864e5));
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    clearRefusal($("filters"));
    $("error").textContent = "";
    refresh().catch((err) => showRefusal($("filters"), err, $("error"), "Carte impossible"));
  });
  $("gpo-select").addEventListener("change", () => refresh().catch(showError));
  const found = await bindCspSelect($("csp-select"), showCsp, showError);
  if (!found) setStatus("Aucun territoire importé.", true);
}

main().catch(showError);
