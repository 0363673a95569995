// Interventions and alerts to mayors (issue 18). The police roles (can("intervention_write"))
// record an intervention: its time, its nature, its place clicked on the map or found by
// its address; the commune it falls in is shown by name before saving (the server derives
// it again, and alerts that commune's mayors only). Everyone the page admits reads the
// latest interventions of its perimeter and a commune's delivery log (e-mails and SMS
// sent, failed, or held until the mayor's quiet hours end).
import { bindCspSelect, esc, fmt, getJSON, isoDay, postJSON, today } from "./api.js";
import { $, LEGEND_OUTLINE, addLegend, can, createMap, legendRow, nearestAddress, searchAddress, showBaseMapLegend, showError, showOutline } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const WRITES = can("intervention_write");
const map = createMap({ maxZoom: 19 }, { followResize: true });
const layers = {
  outline: L.layerGroup().addTo(map),
  interventions: L.layerGroup().addTo(map),
  place: L.layerGroup().addTo(map),
};
// What the red dots are, and whether they are the demo's fictitious ones.
const legend = addLegend(map);
const time = (iso) => new Date(iso).toLocaleString("fr-FR", { timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "short" });

let csp = null;
let communes = [];       // the CSP's communes (GeoJSON features)
let point = null;        // the place picked: a Leaflet LatLng
let placing = false;

// -- the commune a point falls in (ray casting over the communes' polygons) --------------
function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
const inPolygon = (rings, x, y) => inRing(rings[0], x, y) && !rings.slice(1).some((h) => inRing(h, x, y));
function communeAt(latlng) {
  return communes.find((f) => {
    const g = f.geometry;
    const polygons = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
    return polygons.some((p) => inPolygon(p, latlng.lng, latlng.lat));
  }) ?? null;
}

// -- the CSP ------------------------------------------------------------------------------
async function showCsp(next) {
  csp = next;
  document.body.dataset.ready = "0";
  showBaseMapLegend(map, csp.id);
  layers.outline.clearLayers();
  const [outline, found] = await Promise.all([getJSON(`/api/csp/${csp.id}`), getJSON(`/api/communes?csp=${csp.id}`)]);
  showOutline(map, outline, { into: layers.outline, style: { weight: 2 }, padding: [10, 10] });
  communes = found.features.sort((a, b) => a.properties.name.localeCompare(b.properties.name, "fr"));
  const chosen = $("log-commune").value;
  $("log-commune").replaceChildren(...communes.map((c) => new Option(c.properties.name, c.properties.code, false, c.properties.code === chosen)));
  clearPlace();
  await Promise.all([showInterventions(), showDeliveries()]);
  document.body.dataset.ready = "1";
}

async function showInterventions() {
  const list = await getJSON(`/api/interventions?limit=20`);
  const mine = list.data.filter((i) => i.csp_id === csp.id);
  $("interventions").querySelector("tbody").innerHTML = mine.map((i) =>
    `<tr data-id="${i.id}"><td>${time(i.occurred_at)}</td><td>${esc(i.commune)}</td>` +
    `<td>${esc(i.nature_label)}${i.place ? `<br><span class="hint">${esc(i.place)}</span>` : ""}${i.synthetic ? " <em>(fictive)</em>" : ""}</td>` +
    `<td>${fmt.int.format(i.alerts_queued)}</td></tr>`).join("")
    || `<tr><td colspan="4" class="hint">Aucune intervention enregistrée.</td></tr>`;
  layers.interventions.clearLayers();
  for (const i of mine) {
    L.circleMarker([i.lat, i.lon], { radius: 7, weight: 2, color: "#fff", fillColor: "#c1121f", fillOpacity: 1 })
      .bindTooltip(`${esc(i.nature_label)} — ${esc(i.commune)}, ${time(i.occurred_at)}${i.synthetic ? " (fictive)" : ""}`)
      .addTo(layers.interventions);
  }
  legend.getContainer().innerHTML = legendRow("#c1121f", "Intervention récente (survolez-la pour le détail)") + LEGEND_OUTLINE +
    (mine.some((i) => i.synthetic) ? `<small class="hint">Données de démonstration : interventions <strong>fictives</strong>.</small>` : "");
}

function deliveryState(m) {
  if (m.status === "sent") return `envoyé le ${time(m.sent_at)}`;
  if (m.status === "failed") return `échec${m.last_error ? ` (${esc(m.last_error)})` : ""}`;
  const due = new Date(m.next_attempt_at);
  if (m.attempts === 0 && due - new Date(m.created_at) > 60_000) return `différé (heures de silence) jusqu'au ${time(m.next_attempt_at)}`;
  return m.attempts ? `nouvel essai le ${time(m.next_attempt_at)}${m.last_error ? ` (${esc(m.last_error)})` : ""}` : "en attente d'envoi";
}

async function showDeliveries() {
  const code = $("log-commune").value;
  if (!code) return;
  const log = await getJSON(`/api/communes/${code}/deliveries?limit=20`);
  $("deliveries").innerHTML = log.data.map((m) =>
    `<li data-status="${esc(m.status)}">${m.channel === "sms" ? "SMS" : "Courriel"} à ${esc(m.recipient)} — ${esc(m.subject)}` +
    `<br><span class="hint">${deliveryState(m)}${m.attempts > 1 ? ` · ${m.attempts} tentatives` : ""}</span></li>`).join("")
    || `<li class="hint">Aucun message pour cette commune.</li>`;
}
$("log-commune").addEventListener("change", () => showDeliveries().catch(showError));

// -- recording ----------------------------------------------------------------------------
function clearPlace() {
  point = null;
  layers.place.clearLayers();
  setPlacing(false);
  $("place-commune").textContent = "Placez l'intervention sur la carte ou cherchez son adresse.";
}

function setPlacing(on) {
  placing = on;
  $("place-point").setAttribute("aria-pressed", on);
  map.getContainer().style.cursor = on ? "crosshair" : "";
}

function pick(latlng, label) {
  point = latlng;
  layers.place.clearLayers();
  L.marker(latlng, { title: label || "Intervention" }).addTo(layers.place);
  setPlacing(false);
  const commune = communeAt(latlng);
  $("place-commune").className = commune ? "hint" : "error-text";
  $("place-commune").textContent = commune
    ? `Commune : ${commune.properties.name} — son maire sera alerté.`
    : "Ce point est hors des communes de la circonscription.";
  $("place-commune").dataset.commune = commune ? commune.properties.code : "";
}

function initForm() {
  const now = new Date();
  $("occurred-at").value = `${isoDay(today())}T${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
  $("place-point").addEventListener("click", () => setPlacing(!placing));
  map.on("click", (e) => {
    if (!placing) return;
    pick(e.latlng);
    nearestAddress(e.latlng, csp.id).then((near) => {
      if (near.found && !$("place").value) $("place").value = near.label;
    }).catch(() => {});
  });
  const find = () => searchAddress($("address").value, {
    scope: { csp: csp.id },
    list: $("address-results"),
    empty: "Aucune adresse trouvée dans la circonscription : placez l'intervention sur la carte.",
    fill: $("address"),
    map,
    onPick: (r, latlng) => { pick(latlng, r.label); $("place").value = r.label; },
  }).catch(showError);
  $("address-search").addEventListener("click", find);
  $("address").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); find(); } });
  $("intervention-form").addEventListener("submit", (e) => {
    e.preventDefault();
    record().catch(showError);
  });
}

const REFUSED = "Intervention non enregistrée";
// A refusal found before sending: said as the API says one (forms.js).
const missing = (field, label, msg) => ({ message: `${label} : ${msg}`, fields: [{ field, label, msg }] });

async function record() {
  const form = $("intervention-form");
  clearRefusal(form);
  $("intervention-result").textContent = "";
  if (!point) {
    showRefusal(form, missing("lon", "Lieu", "placez l'intervention sur la carte ou choisissez son adresse"), $("intervention-result"), REFUSED);
    return;
  }
  const at = new Date($("occurred-at").value);
  if (!$("occurred-at").value || Number.isNaN(at.getTime())) {
    showRefusal(form, missing("occurred_at", "Date et heure", "indiquez la date et l'heure de l'intervention"), $("intervention-result"), REFUSED);
    return;
  }
  const body = {
    csp_id: csp.id,
    occurred_at: at.toISOString(),
    nature: $("nature").value,
    lon: Number(point.lng.toFixed(6)),
    lat: Number(point.lat.toFixed(6)),
    place: $("place").value.trim() || null,
    note: $("note").value.trim() || null,
  };
  $("intervention-submit").disabled = true;
  try {
    const saved = await postJSON("/api/interventions", body);
    $("place").value = ""; $("note").value = ""; $("address").value = "";
    clearPlace();
    $("log-commune").value = saved.commune_code;
    await Promise.all([showInterventions(), showDeliveries()]);
    $("intervention-result").className = "ok-text";
    $("intervention-result").textContent =
      `Intervention n° ${saved.id} enregistrée à ${saved.commune} : ${saved.alerts_queued} alerte(s) mise(s) en file pour le maire.`;
  } catch (err) {
    showRefusal(form, err, $("intervention-result"), REFUSED);
  } finally {
    $("intervention-submit").disabled = false;
  }
}

if (WRITES) initForm();
bindCspSelect($("csp-select"), showCsp, showError).then((any) => {
  if (!any) $("error").textContent = "Aucune CSP dans votre périmètre.";
}).catch(showError);
