// Home page: the territory's communes, the chosen CSP's outline and a legend, without tiles.
import { esc, fmt, getJSON } from "./api.js";

const STYLE = {
  member: { color: "#ffffff", weight: 1, fillColor: "#9ec5e2", fillOpacity: 0.9, className: "commune commune-csp" },
  other: { color: "#ffffff", weight: 1, fillColor: "#d9d9d4", fillOpacity: 1, className: "commune" },
  outline: { color: "#1d3557", weight: 3, fill: false, interactive: false, className: "csp-outline" },
};

const statusBox = document.getElementById("map-status");
const select = document.getElementById("csp-select");
const list = document.getElementById("commune-list");

function setStatus(text, isError = false) {
  statusBox.textContent = text;
  statusBox.hidden = !text;
  statusBox.classList.toggle("error", isError);
}

const map = L.map("map", { zoomSnap: 0.25, preferCanvas: false, attributionControl: false });
map.setView([46.6, 2.4], 6);
L.control.scale({ imperial: false }).addTo(map);

const legend = L.control({ position: "bottomright" });
legend.onAdd = () => {
  const div = L.DomUtil.create("div", "legend");
  div.innerHTML = `<h3>Légende</h3>
    <div><i class="outline"></i>Limite de la CSP</div>
    <div><i style="background:${STYLE.member.fillColor}"></i>Commune de la CSP</div>
    <div><i style="background:${STYLE.other.fillColor}"></i>Autre commune du territoire</div>`;
  return div;
};
legend.addTo(map);

let communeLayer = null;
let outlineLayer = null;
const layersByCode = new Map();

function popupHtml(p, cspName) {
  const pop = p.population == null ? "inconnue" : `${fmt.int.format(p.population)} hab.`;
  const inCsp = cspName ? `<br>CSP : ${esc(cspName)}` : "<br>Hors de la CSP affichée";
  return `<strong>${esc(p.name)}</strong><br>Code INSEE : ${esc(p.code)}<br>Population : ${pop}${inCsp}`;
}

async function show(csp) {
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
  outlineLayer = L.geoJSON(outline, { style: STYLE.outline }).addTo(map);

  const p = outline.features[0].properties;
  document.getElementById("stat-communes").textContent = fmt.int.format(p.commune_count);
  document.getElementById("stat-population").textContent = p.population == null ? "—" : fmt.int.format(p.population);
  document.getElementById("stat-area").textContent = `${fmt.dec1.format(p.area_km2)} km²`;

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

  map.fitBounds(outlineLayer.getBounds(), { padding: [20, 20] });
  setStatus("");
  document.body.dataset.ready = "true";
}

async function main() {
  try {
    const csps = await getJSON("/api/csp");
    if (csps.count === 0) {
      setStatus("Aucune circonscription importée : lancez « psq import-territory FICHIER --csp-name NOM ».", true);
      return;
    }
    const wanted = Number(new URLSearchParams(location.search).get("csp"));
    const current = csps.data.find((c) => c.id === wanted) ?? csps.data[0];
    select.replaceChildren(...csps.data.map((c) => new Option(c.name, c.id, false, c.id === current.id)));
    select.addEventListener("change", () => {
      const chosen = csps.data.find((c) => c.id === Number(select.value));
      history.replaceState(null, "", `?csp=${chosen.id}`);
      show(chosen).catch((e) => setStatus(`Erreur : ${e.message}`, true));
    });
    await show(current);
  } catch (e) {
    setStatus(`Impossible de charger la carte : ${e.message}`, true);
  }
}

main();
