// Home page: the territory's communes, the chosen CSP's outline and a legend, without tiles.
import { bindCspSelect, esc, fmt, getJSON } from "./api.js";
import { $, LEGEND_OUTLINE, addLegend, can, createMap, legendRow, setStatus, showBaseMapLegend, showOutline, statusError } from "./ui.js";

const STYLE = {
  member: { color: "#ffffff", weight: 1, fillColor: "#9ec5e2", fillOpacity: 0.9, className: "commune commune-csp" },
  other: { color: "#ffffff", weight: 1, fillColor: "#d9d9d4", fillOpacity: 1, className: "commune" },
};

const list = $("commune-list");

const map = createMap();
addLegend(map).getContainer().innerHTML = LEGEND_OUTLINE +
  legendRow(STYLE.member.fillColor, "Commune de la CSP") + legendRow(STYLE.other.fillColor, "Autre commune du territoire");

let shown = null;  // the CSP on the map
let communeLayer = null;
let outlineLayer = null;
const layersByCode = new Map();

function popupHtml(p, cspName) {
  const pop = p.population == null ? "inconnue" : `${fmt.int.format(p.population)} hab.`;
  const inCsp = cspName ? `<br>CSP : ${esc(cspName)}` : "<br>Hors de la CSP affichée";
  return `<strong>${esc(p.name)}</strong><br>Code INSEE : ${esc(p.code)}<br>Population : ${pop}${inCsp}`;
}

async function show(csp) {
  if (shown) history.replaceState(null, "", `?csp=${csp.id}`);  // a CSP chosen in the list
  shown = csp;
  if (can("signed_in")) showBaseMapLegend(map, csp.id);  // the CSP's own base layers
  setStatus("Chargement de la carte…");
  const [communes, outline] = await Promise.all([
    getJSON("/api/communes"),
    getJSON(`/api/csp/${csp.id}`),
  ]);
  communeLayer?.remove();
  outlineLayer?.remove();
  layersByCode.clear();

  communeLayer = L.geoJSON(communes, {
    style: (f) => (f.properties.csp_ids.includes(csp.id) ? STYLE.member : STYLE.other),
    onEachFeature: (f, layer) => {
      const member = f.properties.csp_ids.includes(csp.id);
      layersByCode.set(f.properties.code, layer);
      layer.bindPopup(popupHtml(f.properties, member ? csp.name : null));
      if (member) {
        layer.bindTooltip(esc(f.properties.name), { permanent: true, direction: "center", className: "commune-label" });
      } else {
        layer.bindTooltip(esc(f.properties.name), { sticky: true });
      }
    },
  }).addTo(map);
  outlineLayer = showOutline(map, outline, { style: { className: "csp-outline" } });

  const p = outline.features[0].properties;
  $("stat-communes").textContent = fmt.int.format(p.commune_count);
  $("stat-population").textContent = p.population == null ? "—" : fmt.int.format(p.population);
  $("stat-area").textContent = `${fmt.dec1.format(p.area_km2)} km²`;

  const members = communes.features
    .filter((f) => f.properties.csp_ids.includes(csp.id))
    .sort((a, b) => a.properties.name.localeCompare(b.properties.name, "fr"));
  list.replaceChildren(...members.map((f) => {
    const li = document.createElement("li");
    li.textContent = f.properties.name;
    li.title = `Code INSEE ${f.properties.code}`;
    li.addEventListener("click", () => {
      const layer = layersByCode.get(f.properties.code);
      map.fitBounds(layer.getBounds(), { maxZoom: 14 });
      layer.openPopup();
    });
    return li;
  }));

  setStatus("");
  document.body.dataset.ready = "true";
}

async function main() {
  try {
    if (!(await bindCspSelect($("csp-select"), show, statusError))) {
      setStatus("Aucune circonscription importée : lancez « psq import-territory FICHIER --csp-name NOM ».", true);
    }
  } catch (e) {
    setStatus(`Impossible de charger la carte : ${e.message}`, true);
  }
}

main();
