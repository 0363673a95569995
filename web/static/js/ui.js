// What every page script shares: the DOM helper, the status box over the map, error
// display, the base map (no tiles), its legend box, the CSP outline, the server's palette
// and labels, and the address search.
import { esc, getJSON } from "./api.js";

export const $ = (id) => document.getElementById(id);

// Colours and labels are the server's (web/palette.py, web/pages.py), handed over by
// base.html, so that the printed sheets and the pages agree.
export const PALETTE = JSON.parse(document.querySelector("meta[name=psq-palette]").content);
// Which policies of api/access.py the caller passes (base.html): a page calls only the API
// routes its caller may use, and hides what it may not do.
const CAN = JSON.parse(document.querySelector("meta[name=psq-can]")?.content ?? "{}");
export const can = (policy) => CAN[policy] === true;
export const CATEGORY_COLOURS = PALETTE.categories;
export const categoryColour = (code) => CATEGORY_COLOURS[code] ?? "#777";
// "adopté" → "Adopté"
export const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);

// The options of a <select> from a table of labels ({ code: label }), `selected` chosen.
export const labelOptions = (labels, selected) =>
  Object.entries(labels).map(([code, label]) => new Option(label, code, false, code === selected));

// The status box over the map (#map-status): hidden when empty, red for an error.
export function setStatus(text, isError = false) {
  const box = $("map-status");
  box.textContent = text;
  box.hidden = !text;
  box.classList.toggle("error", isError);
}

// An error in the status box.
export const statusError = (e) => setStatus(`Erreur : ${e.message}`, true);

// An error in the page's #error line; the status box, if any, is emptied.
export function showError(e) {
  $("error").textContent = `Erreur : ${e.message}`;
  if ($("map-status")) setStatus("");
}

// The page's map in #map: no tiles, France in view until the data come, a metric scale.
// `options` go to L.map; followResize redraws the map when its box changes size.
export function createMap(options = {}, { followResize = false } = {}) {
  const map = L.map("map", { zoomSnap: 0.25, attributionControl: false, ...options });
  map.setView([46.6, 2.4], 6);
  L.control.scale({ imperial: false }).addTo(map);
  if (followResize) new ResizeObserver(() => map.invalidateSize()).observe($("map"));
  return map;
}

// A legend box at the bottom right of the map; fill it through legend.getContainer().
export function addLegend(map, className = "legend") {
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => L.DomUtil.create("div", className);
  return legend.addTo(map);
}

// One row of a legend: a swatch and its (HTML) label.
export const legendRow = (colour, label) => `<div><i style="background:${colour}"></i>${label}</div>`;
export const LEGEND_OUTLINE = `<div><i class="outline"></i>Limite de la CSP</div>`;

export const OUTLINE_STYLE = { color: "#1d3557", weight: 3, fill: false };

// An outline (the CSP's, a commune's) drawn on `into` (the map, or one of its layer groups)
// and the map fitted to it. `style` adds to OUTLINE_STYLE; `renderer` is Leaflet's.
export function showOutline(map, outline, { into = map, style = {}, padding = [20, 20], renderer } = {}) {
  const options = { interactive: false, style: { ...OUTLINE_STYLE, ...style } };
  if (renderer) options.renderer = renderer;
  const layer = L.geoJSON(outline, options).addTo(into);
  map.fitBounds(layer.getBounds(), { padding });
  return layer;
}

// The address search over the local address table (GET /api/geocode), the server keeping
// the addresses of `scope` ({ csp: id } or { commune: INSEE code }). The five best are
// listed in `list` as buttons ("empty" says why there is none); picking one hands it to
// onPick(result, latlng), writes its label into `fill`, centres `map` on it (zoom 16 at
// least) and empties the list. A query shorter than two characters is not sent.
export async function searchAddress(q, { scope, list, empty, fill, map, onPick }) {
  const query = q.trim();
  if (query.length < 2) return;
  const found = await getJSON(`/api/geocode?${new URLSearchParams({ q: query, ...scope, limit: 5 })}`);
  if (!found.count) {
    list.innerHTML = `<li class="hint">${esc(empty)}</li>`;
    return;
  }
  list.replaceChildren(...found.data.map((r) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = r.label;
    button.addEventListener("click", () => {
      const latlng = L.latLng(r.lat, r.lon);
      onPick(r, latlng);
      fill.value = r.label;
      map.setView(latlng, Math.max(map.getZoom(), 16));
      list.replaceChildren();
    });
    item.append(button);
    return item;
  }));
}
