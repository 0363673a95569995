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

// Re-render `container` (render() replaces its content) and give the keyboard focus back
// to the element that had it: the same id, else the same tag with the same data-* and
// name/value attributes.
export function keepFocus(container, render) {
  const active = document.activeElement;
  let selector = null;
  if (active && active !== document.body && container.contains(active)) {
    if (active.id) selector = `#${CSS.escape(active.id)}`;
    else {
      const attrs = [...active.attributes].filter((a) => a.name.startsWith("data-") || a.name === "name" || a.name === "value");
      selector = active.tagName.toLowerCase() + attrs.map((a) => `[${a.name}="${CSS.escape(a.value)}"]`).join("");
    }
  }
  render();
  if (selector) container.querySelector(selector)?.focus();
}

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

// The page's map in #map: the app's own base map under everything (for a signed-in
// caller), France in view until the data come, a metric scale. `options` go to L.map;
// followResize redraws the map when its box changes size.
export function createMap(options = {}, { followResize = false, baseMap = true } = {}) {
  const map = L.map("map", { zoomSnap: 0.25, attributionControl: false, ...options });
  map.setView([46.6, 2.4], 6);
  L.control.scale({ imperial: false }).addTo(map);
  if (baseMap && can("signed_in")) addBaseMap(map);
  $("map").leafletMap = map;  // for the browser tests and benchmarks
  if (followResize) new ResizeObserver(() => map.invalidateSize()).observe($("map"));
  return map;
}

// The base map's style: light, so that heat, hexagons and sectors stay readable.
const ROAD_STYLES = {
  motorway: { color: "#d9a56f", weight: 2.6 },
  trunk: { color: "#d9a56f", weight: 2.4 },
  primary: { color: "#c9b79c", weight: 2.2 },
  secondary: { color: "#cfc6b8", weight: 1.8 },
  tertiary: { color: "#d6cfc4", weight: 1.6 },
};
const roadStyle = (properties, zoom) => {
  const base = ROAD_STYLES[(properties.class || "").replace(/_link$/, "")] ?? { color: "#ddd7cf", weight: 1.1 };
  const weight = base.weight * (zoom >= 16 ? 1.8 : zoom >= 14 ? 1.3 : 1);
  return { color: base.color, weight, opacity: properties.tunnel ? 0.45 : 0.95, dashArray: properties.tunnel ? "3 3" : null };
};
export const BASE_MAP_STYLES = {
  communes: { fill: true, fillColor: "#f5f3ee", fillOpacity: 0.7, color: "#bdb6a8", weight: 0.8 },
  water: { color: "#a8cbe2", weight: 1.6 },
  roads: roadStyle,
  railways: { color: "#9a9a9a", weight: 1.4, dashArray: "5 3" },
  buildings: { fill: true, fillColor: "#e4e0d8", fillOpacity: 0.8, stroke: false },
  addresses: { radius: 1.6, fill: true, fillColor: "#a9a39a", fillOpacity: 0.9, stroke: false },
};

// The base map: vector tiles built by the app (/tiles/{z}/{x}/{y}.pbf) from the
// territory's own data, drawn by Leaflet.VectorGrid in the tile pane (under every
// thematic layer), and a legend saying which base layers the territory has.
export function addBaseMap(map, { csp } = {}) {
  if (!L.vectorGrid) return null;
  const layer = L.vectorGrid.protobuf("/tiles/{z}/{x}/{y}.pbf", {
    rendererFactory: L.canvas.tile,
    vectorTileLayerStyles: BASE_MAP_STYLES,
    interactive: false,
    maxNativeZoom: 18,
    maxZoom: 22,
    fetchOptions: { credentials: "same-origin" },
  }).addTo(map);
  // When the visible tiles are drawn (body[data-base-map-ms]: milliseconds since the
  // layer was made or last moved; the benchmark reads it).
  let started = performance.now();
  map.on("movestart zoomstart", () => { started = performance.now(); });
  layer.on("load", () => { document.body.dataset.baseMapMs = String(Math.round(performance.now() - started)); });
  map.baseMap = layer;
  showBaseMapLegend(map, csp);
  addBaseMapLabels(map);
  return layer;
}

// The names over the base map (communes from zoom 11, the longest streets from zoom 15,
// along them): /api/basemap/labels for the view, redrawn when the view changes, in a
// pane above the tiles and below every thematic layer; they never catch the mouse.
export function addBaseMapLabels(map) {
  if (!map.getPane("basemapLabels")) {
    const pane = map.createPane("basemapLabels");
    pane.style.zIndex = 250;
    pane.style.pointerEvents = "none";
  }
  const group = L.layerGroup().addTo(map);
  let ticket = 0;
  let last = { labels: [] };
  // Communes first, then the streets longest first (the server's order); a name that
  // would overlap one already written, or a thematic label (a sector's name), is left
  // out, so that every name stays readable.
  const layout = () => {
    group.clearLayers();
    const placed = [...map.getContainer().querySelectorAll(".leaflet-tooltip-pane .leaflet-tooltip")]
      .map((e) => e.getBoundingClientRect());
    const overlaps = (r) => placed.some((p) => r.left < p.right + 4 && p.left < r.right + 4 && r.top < p.bottom + 2 && p.top < r.bottom + 2);
    let shown = 0;
    for (const l of last.labels) {
      const html = `<span style="transform: translate(-50%, -50%) rotate(${l.angle}deg)">${esc(l.text)}</span>`;
      const marker = L.marker([l.lat, l.lon], {
        pane: "basemapLabels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: `basemap-label ${l.kind}`, html, iconSize: null }),
      }).addTo(group);
      // A name is not a marker: it leaves the markers' class (pages and tests count those).
      marker.getElement().classList.remove("leaflet-marker-icon");
      const rect = marker.getElement().firstChild.getBoundingClientRect();
      if (overlaps(rect)) group.removeLayer(marker);
      else { placed.push(rect); shown += 1; }
    }
    document.body.dataset.baseMapLabels = String(shown);
  };
  const redraw = async () => {
    const mine = ++ticket;  // the last view asked wins
    const zoom = Math.round(map.getZoom());
    if (zoom < 11) { last = { labels: [] }; group.clearLayers(); return; }
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
    let info;
    try {
      info = await getJSON(`/api/basemap/labels?${new URLSearchParams({ bbox, zoom })}`);
    } catch {
      return;  // names are a help, never an error: the map stays as it is
    }
    if (mine !== ticket) return;
    last = info;
    layout();
  };
  map.on("moveend", redraw);
  map.whenReady(redraw);
  // A thematic label added later (a sector's name) makes room: the names are laid out again.
  let pending = null;
  map.on("layeradd", (e) => {
    if (!(e.layer instanceof L.Tooltip) || pending) return;
    pending = setTimeout(() => { pending = null; layout(); }, 150);
  });
  map.baseMapLabels = group;
  return group;
}

// The base map's legend (bottom left): one line per base layer (« Rues : non importées »)
// and the attribution; `csp` counts the CSP's own features.
export async function showBaseMapLegend(map, csp) {
  if (!map.baseMapLegend) {
    map.baseMapLegend = L.control({ position: "bottomleft" });
    map.baseMapLegend.onAdd = () => L.DomUtil.create("div", "basemap-legend");
    map.baseMapLegend.addTo(map);
  }
  const box = map.baseMapLegend.getContainer();
  const ticket = (map.baseMapTicket = (map.baseMapTicket || 0) + 1);  // the last asked wins
  try {
    const query = csp ? `?${new URLSearchParams({ csp })}` : "";
    const info = await getJSON(`/api/basemap${query}`);
    if (ticket !== map.baseMapTicket) return;
    map.baseMapInfo = info;
    renderBaseMapLegend(map);
  } catch (e) {
    box.textContent = `Fond de plan : ${e.message}`;
  }
}

function renderBaseMapLegend(map) {
  const info = map.baseMapInfo;
  if (!map.baseMapLegend || !info) return;
  const box = map.baseMapLegend.getContainer();
  const extras = [...(map.baseMapExtras?.values() ?? [])].join("");
  // Kept as the user left it when redrawn; closed at first on a phone or a small map (the
  // study queue's), where it would hide the map. The attribution stays visible either way.
  const shown = box.querySelector("details");
  const open = shown ? shown.open : wideScreen() && map.getSize().y >= 450;
  box.innerHTML = `<details${open ? " open" : ""}><summary>Fond de plan</summary>${info.layers
    .map((l) => `<div class="${l.available ? "" : "missing"}" data-layer="${esc(l.key)}">${esc(l.legend)}</div>`)
    .join("")}${extras}</details><small>© les contributeurs d'OpenStreetMap (ODbL) pour les données qui en viennent</small>`;
  box.title = info.attribution;
}

// A line of the page's own under the base map's legend (the declared links), by `key`;
// an empty `html` takes it away.
export function setBaseMapExtra(map, key, html) {
  map.baseMapExtras ??= new Map();
  if (html) map.baseMapExtras.set(key, html); else map.baseMapExtras.delete(key);
  renderBaseMapLegend(map);
}

// Whether the map legends are open, remembered across pages (localStorage).
const LEGEND_KEY = "psq-legend-open";
// A phone's map is small: there its legends start closed until the user opens them.
const wideScreen = () => window.matchMedia("(min-width: 701px)").matches;
const legendOpen = () => {
  try {
    const stored = localStorage.getItem(LEGEND_KEY);
    return stored === null ? wideScreen() : stored !== "0";
  } catch { return wideScreen(); }
};

// A legend box at the bottom right of the map, behind a « Légende » toggle (its state
// remembered), never taller than the map (it scrolls); fill it through
// legend.getContainer(), which is the box's body.
export function addLegend(map, className = "legend") {
  const legend = L.control({ position: "bottomright" });
  let body = null;
  legend.onAdd = () => {
    const box = L.DomUtil.create("div", `map-legend ${className}`);
    const toggle = L.DomUtil.create("button", "legend-toggle", box);
    toggle.type = "button";
    toggle.textContent = "Légende";
    body = L.DomUtil.create("div", "legend-body", box);
    body.id = `legend-body-${Math.random().toString(36).slice(2, 8)}`;
    toggle.setAttribute("aria-controls", body.id);
    const show = (open) => {
      body.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      box.classList.toggle("closed", !open);
    };
    show(legendOpen());
    toggle.addEventListener("click", () => {
      const open = body.hidden;
      show(open);
      try { localStorage.setItem(LEGEND_KEY, open ? "1" : "0"); } catch { /* private mode */ }
    });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    const fit = () => { body.style.maxHeight = `${Math.max(80, map.getSize().y - 110)}px`; };
    map.on("resize", fit);
    fit();
    return box;
  };
  legend.addTo(map);
  legend.getContainer = () => body;
  legend.getBox = () => body.parentElement;
  return legend;
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

// Suggestions as one types: `run()` once the typing pauses (`delay` ms) on `input`.
export function onTyping(input, run, delay = 250) {
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, delay);
  });
}

// The address nearest a point (GET /api/geocode/reverse): { found, near: « près du 12
// faubourg de France », label, distance_m… }, within the CSP when `csp` is given.
export async function nearestAddress(latlng, csp) {
  const params = { lon: latlng.lng.toFixed(6), lat: latlng.lat.toFixed(6) };
  if (csp) params.csp = csp;
  return getJSON(`/api/geocode/reverse?${new URLSearchParams(params)}`);
}
