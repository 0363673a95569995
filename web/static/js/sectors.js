// What the sector pages share: sector colours, plan labels, deviation bars, the CSP's
// outline and commune lines drawn on a map without tiles.
import { esc, explained, fmt, getJSON, percent } from "./api.js";
import { PALETTE, capitalise, setBaseMapExtra, showOutline } from "./ui.js";

// The sector colours and the plan statuses are the server's (web/palette.py, web/pages.py),
// so the A4 sheet and the pages agree; the plans' origins too. PLAN_STATUSES: "adopté"…; STATUS_LABELS: "Adopté"…
const SECTOR_COLOURS = PALETTE.sectors;
export const PLAN_STATUSES = PALETTE.plan_statuses;
export const STATUS_LABELS = Object.fromEntries(Object.entries(PLAN_STATUSES).map(([k, v]) => [k, capitalise(v)]));
export const ORIGIN_LABELS = PALETTE.plan_origins;  // geo.value_labels.PLAN_ORIGINS

// A sector's name on the map, at its label point (the server's pole of inaccessibility,
// inside its own polygon), into `into` (a layer group or the map).
export function sectorLabel(feature, into, className = "sector-label") {
  const at = feature.properties.label_point;
  if (!at) return null;
  return L.tooltip({ permanent: true, direction: "center", className, interactive: false })
    .setLatLng([at[1], at[0]])
    .setContent(esc(feature.properties.name))
    .addTo(into);
}

export const colour = (sector) => SECTOR_COLOURS[sector % SECTOR_COLOURS.length];
export const pct = (v) => (v == null ? "—" : fmt.pct1.format(v));
// A deviation without its sign (the largest one, said "écart maximal").
export const unsignedPct = (v) => pct(v).replace("+", "");

// A deviation judged against the tolerance, written so that it reads as judged (as
// geo.metrics.percent_beyond does): out of the band, as many decimals (up to four) as it
// takes for the figure shown to exceed the tolerance shown (never « -5,0 % hors de ±5,0 % »).
export function deviationPct(v, tolerance, { signed = true } = {}) {
  if (v == null) return "—";
  let decimals = 1;
  if (Math.abs(v) > tolerance + 1e-9) {
    const round = (x, d) => Math.round(x * 100 * 10 ** d) / 10 ** d;
    while (decimals < 4 && round(Math.abs(v), decimals) <= round(tolerance, decimals)) decimals += 1;
  }
  const text = new Intl.NumberFormat("fr-FR", {
    style: "percent", minimumFractionDigits: decimals, maximumFractionDigits: decimals, signDisplay: signed ? "exceptZero" : "never",
  }).format(v);
  return text;
}

// A bar from -scale to +scale with the tolerance band in green and the sector's mark.
export function devBar(deviation, tolerance) {
  const scale = Math.max(0.25, tolerance * 3, Math.abs(deviation) * 1.1);
  const x = (d) => 50 + (d / scale) * 50;
  const out = Math.abs(deviation) > tolerance + 1e-9;
  return `<span class="devbar" aria-hidden="true"><span class="band" style="left:${x(-tolerance)}%;right:${100 - x(tolerance)}%"></span>` +
    `<span class="mark${out ? " out" : ""}" style="left:calc(${Math.min(100, Math.max(0, x(deviation)))}% - 1px)"></span></span>${deviationPct(deviation, tolerance)}`;
}

// Communes by name, code in parentheses (« Belfort (90010) »): the names of the communes
// a page has loaded (drawTerritory remembers them); the code alone when unknown.
const COMMUNE_NAMES = new Map();
export function rememberCommunes(communes) {
  for (const f of communes?.features ?? []) COMMUNE_NAMES.set(f.properties.code, f.properties.name);
}
export const communeName = (code) =>
  code == null ? "—" : COMMUNE_NAMES.has(code) ? `${COMMUNE_NAMES.get(code)} (${code})` : String(code);

// One line summing a plan's metrics up, in French (HTML: the commune names escaped, the
// technical terms in « ? » notes).
export function metricsSummary(m, tolerance) {
  const split = Object.entries(m.split_communes ?? {}).map(([c, n]) => `${esc(communeName(c))} en ${n} secteurs`).join(", ") || "aucune";
  return `${m.k} secteurs · écart maximal ${deviationPct(m.max_deviation, tolerance, { signed: false })} ` +
    `(tolérance ±${percent(tolerance)}) · ` +
    explained(`compacité moyenne ${fmt.dec2.format(m.mean_polsby_popper)}`, "Polsby-Popper", "surface du secteur comparée à celle d'un disque de même périmètre : 1 pour un disque, près de 0 pour un secteur très allongé ou découpé") + " · " +
    `${m.contiguous ? "tous contigus" : "secteur(s) non contigu(s)"} · communes coupées : ${split} · ` +
    `cellules voisines séparées par une barrière (voie ferrée, cours d'eau…) dans un même secteur : ${m.barrier_edges_inside}` +
    (m.pmedian_distance_m == null ? "" : " · " + explained(`distance moyenne au centre ${fmt.int.format(m.pmedian_distance_m)} m`, "p-médian", "distance de chaque cellule au centre de son secteur, pondérée par sa charge : elle approche le temps d'intervention")) +
    ` · longueur des limites ${fmt.dec1.format(m.cut_length_m / 1000)} km`;
}

// The CSP outline and its commune lines, drawn from our data (no tiles needed), the map
// fitted to the outline; with `csp` (its id), its declared links too (drawDeclaredLinks).
// SVG, never canvas: lines that do not catch the mouse, so cells under them can be painted.
export function drawTerritory(map, outline, communes, { padding = [20, 20], csp = null } = {}) {
  rememberCommunes(communes);
  const renderer = L.svg();
  const communeLayer = L.geoJSON(communes, {
    renderer, interactive: false,
    style: { color: "#333", weight: 1, dashArray: "4 3", fill: false, className: "commune-line" },
  }).addTo(map);
  const outlineLayer = showOutline(map, outline, { renderer, padding, style: { className: "csp-outline" } });
  const links = csp == null ? null : drawDeclaredLinks(map, csp, outlineLayer.getBounds(), { renderer, interactive: false });
  return {
    communeLayer, outlineLayer,
    remove() { communeLayer.remove(); outlineLayer.remove(); links?.remove(); },
    bringToFront() { communeLayer.bringToFront(); outlineLayer.bringToFront(); links?.bringToFront(); },
  };
}

// The CSP's declared links (issue 20: ferries, bridges, tunnels, imported as `links`
// layers), dashed over the sectors, named in a tooltip, counted under the base map's
// legend (« Liaisons déclarées (bac, pont…) »). A layer group, filled as the data come;
// not `interactive`, they leave the mouse to the cells under them (the plan editor's).
export const LINK_STYLE = { color: "#1f3a93", weight: 3, dashArray: "8 6", className: "declared-link" };
export function drawDeclaredLinks(map, csp, bounds, { renderer, interactive = true } = {}) {
  const group = L.featureGroup().addTo(map);
  const bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map((v) => v.toFixed(5)).join(",");
  (async () => {
    const layers = await getJSON(`/api/csp/${csp}/layers`);
    let count = 0;
    for (const layer of layers.data.filter((l) => l.kind === "links" && l.features_in_csp > 0)) {
      const data = await getJSON(`/api/layers/${layer.id}/features?bbox=${bbox}`);
      if (!map.hasLayer(group)) return;  // the page moved on (another CSP)
      count += data.features.length;
      L.geoJSON(data, {
        ...(renderer ? { renderer } : {}),
        interactive,
        style: LINK_STYLE,
        onEachFeature: (f, l) => interactive && l.bindTooltip(`Liaison déclarée : ${esc(f.properties.name ?? layer.name)}`, { sticky: true }),
      }).addTo(group);
    }
    if (!map.hasLayer(group)) return;
    group.bringToFront();
    setBaseMapExtra(map, "links", count
      ? `<div class="declared-links"><i class="link-key"></i>Liaisons déclarées (bac, pont…) : ${fmt.int.format(count)}</div>`
      : "");
    map.getContainer().dataset.declaredLinks = String(count);
  })().catch(() => { /* the links are a help: the map stays as it is */ });
  group.on("remove", () => setBaseMapExtra(map, "links", ""));
  return group;
}

export function violationItems(violations, notes = []) {
  return [
    ...violations.map((v) => `<li class="violation">Contrainte non respectée — ${esc(v.message)}</li>`),
    ...notes.map((n) => `<li>${esc(n)}</li>`),
  ].join("");
}
