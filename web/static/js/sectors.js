// What the sector pages share: sector colours, plan labels, deviation bars, the CSP's
// outline and commune lines drawn on a map without tiles.
import { esc, fmt, percent } from "./api.js";
import { PALETTE, capitalise, showOutline } from "./ui.js";

// The sector colours and the plan statuses are the server's (web/palette.py, web/pages.py),
// so the A4 sheet and the pages agree. PLAN_STATUSES: "adopté"…; STATUS_LABELS: "Adopté"…
const SECTOR_COLOURS = PALETTE.sectors;
export const PLAN_STATUSES = PALETTE.plan_statuses;
export const STATUS_LABELS = Object.fromEntries(Object.entries(PLAN_STATUSES).map(([k, v]) => [k, capitalise(v)]));
export const ORIGIN_LABELS = { engine: "proposition", communes: "communes entières", import: "importé", edit: "modifié à la main" };

export const colour = (sector) => SECTOR_COLOURS[sector % SECTOR_COLOURS.length];
export const pct = (v) => (v == null ? "—" : fmt.pct1.format(v));
// A deviation without its sign (the largest one, said "écart maximal").
export const unsignedPct = (v) => pct(v).replace("+", "");

// A bar from -scale to +scale with the tolerance band in green and the sector's mark.
export function devBar(deviation, tolerance) {
  const scale = Math.max(0.25, tolerance * 3, Math.abs(deviation) * 1.1);
  const x = (d) => 50 + (d / scale) * 50;
  const out = Math.abs(deviation) > tolerance + 1e-9;
  return `<span class="devbar" aria-hidden="true"><span class="band" style="left:${x(-tolerance)}%;right:${100 - x(tolerance)}%"></span>` +
    `<span class="mark${out ? " out" : ""}" style="left:calc(${Math.min(100, Math.max(0, x(deviation)))}% - 1px)"></span></span>${pct(deviation)}`;
}

// One line summing a plan's metrics up, in French.
export function metricsSummary(m, tolerance) {
  const split = Object.entries(m.split_communes ?? {}).map(([c, n]) => `${c} (${n} secteurs)`).join(", ") || "aucune";
  return `${m.k} secteurs · écart maximal ${unsignedPct(m.max_deviation)} ` +
    `(tolérance ±${percent(tolerance)}) · compacité moyenne ${fmt.dec2.format(m.mean_polsby_popper)} · ` +
    `${m.contiguous ? "tous contigus" : "secteur(s) non contigu(s)"} · communes coupées : ${split} · ` +
    `contiguïtés traversant une barrière : ${m.barrier_edges_inside}` +
    (m.pmedian_distance_m == null ? "" : ` · distance moyenne au centre (p-médian) ${fmt.int.format(m.pmedian_distance_m)} m`) +
    ` · longueur des limites ${fmt.dec1.format(m.cut_length_m / 1000)} km`;
}

// The CSP outline and its commune lines, drawn from our data (no tiles needed), the map
// fitted to the outline. SVG, never canvas: lines that do not catch the mouse, so cells
// under them can be painted.
export function drawTerritory(map, outline, communes, { padding = [20, 20] } = {}) {
  const renderer = L.svg();
  const communeLayer = L.geoJSON(communes, {
    renderer, interactive: false,
    style: { color: "#333", weight: 1, dashArray: "4 3", fill: false, className: "commune-line" },
  }).addTo(map);
  const outlineLayer = showOutline(map, outline, { renderer, padding, style: { className: "csp-outline" } });
  return { communeLayer, outlineLayer, remove() { communeLayer.remove(); outlineLayer.remove(); },
    bringToFront() { communeLayer.bringToFront(); outlineLayer.bringToFront(); } };
}

export function violationItems(violations, notes = []) {
  return [
    ...violations.map((v) => `<li class="violation">Contrainte non respectée — ${esc(v.message)}</li>`),
    ...notes.map((n) => `<li>${esc(n)}</li>`),
  ].join("");
}
