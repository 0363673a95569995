// Espace commune: a commune files safety-study requests (site drawn on the map or found
// by its address), follows them, sees its problems aggregated per H3 cell with their hot
// spots (never a problem record), and asks where p cameras would cover the most problems.
// A commune account sees its own communes only (GET /api/me), the first one chosen; other
// callers choose among the communes of the CSPs (/commune/{code} or ?code= first, else the
// most populated). Its dashboard is commune_dashboard.js.
// The requests are the commune's and the référents' (the état-major sees the picture only).
import { day, esc, fmt, getJSON, percent, postJSON } from "./api.js";
import { clearRefusal, showRefusal } from "./forms.js";
import { $, PALETTE, addLegend, can, createMap, labelOptions, nearestAddress, searchAddress, setStatus, showBaseMapLegend, showError, showOutline } from "./ui.js";
import { showDashboard } from "./commune_dashboard.js";
import { initConventions } from "./commune_conventions.js";
import { initContracts } from "./commune_csi.js";

const REQUESTS = can("study_requests");

const STATUS_COLOURS = PALETTE.audit_statuses;
const SITE_COLOURS = PALETTE.coverage;
const HOT = PALETTE.hotspots;
const COUNT_COLOURS = ["#f7f4f9", "#d4b9da", "#c994c7", "#df65b0", "#dd1c77", "#980043"];
// Counts of 1 or 2 are masked by the server (they could single a record out).
const count = (n) => (n == null ? "1 ou 2" : fmt.int.format(n));

const map = createMap({ maxZoom: 19 }, { followResize: true });
const layers = {
  cells: L.layerGroup().addTo(map),
  outline: L.layerGroup().addTo(map),
  requests: L.layerGroup().addTo(map),
  coverage: L.layerGroup().addTo(map),
  covered: L.layerGroup().addTo(map),
  quartier: L.layerGroup().addTo(map),
  drawing: L.layerGroup().addTo(map),
};
L.control.layers(null, {
  "Problèmes par maille (12 mois)": layers.cells,
  "Vos demandes": layers.requests,
  "Emplacements proposés": layers.coverage,
  "Participation citoyenne": layers.covered,
}, { collapsed: false, position: "topright" }).addTo(map);
const legend = addLegend(map);

let taxonomy = null;
let communes = [];
let commune = null;
let site = null;          // the GeoJSON geometry of the site being requested
let drawMode = null;      // "point", "polygon" or null
let vertices = [];
let pendingBody = null;   // a request refused as a duplicate, kept to confirm it

// -- the commune ----------------------------------------------------------------------
async function init() {
  const [tax, collection, me] = await Promise.all([
    getJSON("/api/audits/taxonomy"), getJSON("/api/communes"), getJSON("/api/me"),
  ]);
  taxonomy = tax;
  $("kind").replaceChildren(...labelOptions(tax.kinds));
  const own = new Set(me.commune_codes);
  communes = collection.features.filter((f) => f.properties.csp_ids.length && (!own.size || own.has(f.properties.code)))
    .sort((a, b) => a.properties.name.localeCompare(b.properties.name, "fr"));
  if (!communes.length) { $("error").textContent = "Aucune commune rattachée à une CSP : importez un territoire."; return; }
  const wanted = location.pathname.match(/^\/commune\/([0-9AB]{5})$/)?.[1] ?? new URLSearchParams(location.search).get("code");
  const biggest = communes.reduce((a, b) => ((b.properties.population ?? 0) > (a.properties.population ?? 0) ? b : a));
  const first = communes.find((c) => c.properties.code === wanted) ?? biggest;
  $("commune-select").replaceChildren(...communes.map((c) => new Option(`${c.properties.name} (${c.properties.code})`, c.properties.code, false, c === first)));
  $("commune-select").addEventListener("change", (e) => show(e.target.value).catch(showError));
  await show(first.properties.code);
}

async function show(code) {
  document.body.dataset.ready = "0";
  commune = communes.find((c) => c.properties.code === code);
  history.replaceState(null, "", `/commune/${code}`);
  $("error").textContent = "";
  clearSite();
  layers.outline.clearLayers();
  layers.coverage.clearLayers();
  $("coverage-table").hidden = true;
  $("coverage-text").textContent = "";
  $("requested-scores").replaceChildren();
  showOutline(map, commune, { into: layers.outline });
  // The base map's legend counts the layers of the commune's CSP, not the whole territory.
  if (commune.properties.csp_ids.length) showBaseMapLegend(map, commune.properties.csp_ids[0]);
  setStatus("Calcul des problèmes par maille…");
  await Promise.all([showCells(), showRequests(), showDashboard(code, layers.covered)]);
  setStatus("");
  document.body.dataset.ready = "1";
}

async function showCells() {
  const cells = await getJSON(`/api/communes/${commune.properties.code}/hotspots`);
  const meta = cells.meta;
  layers.cells.clearLayers();
  const max = Math.max(3, ...cells.features.map((f) => f.properties.count ?? 0));
  const colour = (n) => COUNT_COLOURS[Math.min(COUNT_COLOURS.length - 1, Math.ceil((n / max) * (COUNT_COLOURS.length - 1)))];
  L.geoJSON(cells, {
    style: (f) => ({
      color: f.properties.level > 0 ? HOT[f.properties.level] : "#999",
      weight: f.properties.level > 0 ? 2.5 : 0.4,
      fillColor: colour(f.properties.count ?? 1), fillOpacity: 0.65,
    }),
    onEachFeature: (f, layer) => layer.bindTooltip(
      `${count(f.properties.count)} problème(s) sur 12 mois${f.properties.level > 0 ? ` — ${esc(f.properties.label)}` : ""}`),
  }).addTo(layers.cells);
  $("synthetic-banner").hidden = meta.synthetic_problems === 0;
  $("key-figures").querySelector(".problems").innerHTML =
    `<strong>${fmt.int.format(meta.problems)}</strong><span>problèmes sur 12 mois</span>`;
  $("key-figures").querySelector(".hot").innerHTML = meta.hotspots_computed
    ? `<strong>${fmt.int.format(meta.hot_cells)}</strong><span>mailles en point chaud</span>`
    : `<strong>—</strong><span>trop peu de données pour calculer des points chauds (moins de ${meta.min_hotspot_problems} problèmes)</span>`;
  legend.getContainer().innerHTML =
    `<strong>Problèmes par maille (hexagone), sur 12 mois</strong><br><span class="hint">couleur de plus en plus foncée avec le nombre :</span><br>` +
    [0, 0.25, 0.5, 0.75, 1].map((q) => `<span class="swatch" style="background:${colour(q * max)}"></span>${fmt.int.format(Math.round(q * max))}`).join("<br>") +
    `<br><span class="swatch" style="background:#fff;border:2.5px solid ${HOT[3]}"></span>point chaud` +
    `<br><span class="swatch" style="background:${SITE_COLOURS.suggested};border-radius:50%"></span>emplacement proposé` +
    `<br><span class="swatch" style="background:${SITE_COLOURS.requested};border-radius:50%"></span>site demandé (portée)` +
    `<br><span class="swatch" style="background:${SITE_COLOURS.fixed};border-radius:50%"></span>caméra existante / site étudié`;
}

// -- the requests ---------------------------------------------------------------------
async function showRequests() {
  if (!REQUESTS) return;
  const answer = await getJSON(`/api/audits?commune=${commune.properties.code}`);
  layers.requests.clearLayers();
  $("request-count").textContent = answer.count;
  document.body.dataset.requests = answer.count;
  const open = answer.data.filter((r) => taxonomy.open_statuses.includes(r.status)).length;
  $("key-figures").querySelector(".requests").innerHTML =
    `<strong>${fmt.int.format(open)}</strong><span>demande(s) en cours</span>`;
  $("requests").innerHTML = answer.data.slice().reverse().map((r) => {
    const steps = r.events.map((e) => `<li>${day(e.on)} — ${esc(e.status_label)}${e.planned_on ? ` (étude le ${day(e.planned_on)}${e.referent ? `, ${esc(e.referent)}` : ""})` : ""}${e.note ? ` : ${esc(e.note)}` : ""}</li>`).join("");
    return `<li data-id="${r.id}"><strong>${esc(r.site_name || r.kind_label)}</strong> ` +
      `<span class="status-badge" style="background:${STATUS_COLOURS[r.status]}">${esc(r.status_label)}</span><br>` +
      `<span class="hint">n° ${r.id} · ${esc(r.kind_label)} · demandée le ${day(r.requested_on)}</span>` +
      (r.refusal_reason ? `<br>Motif : ${esc(r.refusal_reason)}` : "") +
      (r.recommendations ? `<br>Préconisations : ${esc(r.recommendations)}` : "") +
      (r.document ? `<br><a href="/api/audits/${r.id}/document">Télécharger les préconisations</a>` : "") +
      `<details><summary>Historique</summary><ul>${steps}</ul></details></li>`;
  }).join("") || "<li class=\"hint\">Aucune demande pour l'instant.</li>";
  L.geoJSON({ type: "FeatureCollection", features: answer.data.map((r) => ({ type: "Feature", geometry: r.geometry, properties: r })) }, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 8, weight: 2, color: "#fff", fillColor: STATUS_COLOURS[f.properties.status], fillOpacity: 1 }),
    style: (f) => ({ color: STATUS_COLOURS[f.properties.status], weight: 2, fillOpacity: 0.15 }),
    onEachFeature: (f, layer) => layer.bindTooltip(`Demande n° ${f.properties.id} — ${esc(f.properties.site_name || f.properties.kind_label)} (${esc(f.properties.status_label)})`),
  }).addTo(layers.requests);
}

// -- drawing the site -----------------------------------------------------------------
function setMode(mode) {
  drawMode = mode;
  $("draw-point").setAttribute("aria-pressed", mode === "point");
  $("draw-polygon").setAttribute("aria-pressed", mode === "polygon");
  $("draw-finish").hidden = mode !== "polygon";
  map.getContainer().style.cursor = mode ? "crosshair" : "";
  $("site-hint").textContent = mode === "point" ? "Cliquez sur la carte à l'emplacement du site."
    : mode === "polygon" ? "Cliquez les sommets du périmètre, puis « Terminer le périmètre »."
    : site ? "Site placé. Vous pouvez le déplacer en recommençant." : "Cliquez « Placer un point » puis sur la carte, ou cherchez une adresse.";
}

function clearSite() {
  site = null; vertices = [];
  layers.drawing.clearLayers();
  setMode(null);
}

function placePoint(latlng, label) {
  layers.drawing.clearLayers();
  site = { type: "Point", coordinates: [Number(latlng.lng.toFixed(6)), Number(latlng.lat.toFixed(6))] };
  L.marker(latlng, { title: label || "Site demandé" }).addTo(layers.drawing);
  setMode(null);
}

map.on("click", (e) => {
  if (drawMode === "point") {
    placePoint(e.latlng);
    nearestAddress(e.latlng).then((near) => {
      if (near.found) $("site-hint").textContent = `Site placé ${near.near} (${near.label}).`;
    }).catch(() => {});
  }
  else if (drawMode === "polygon") {
    vertices.push(e.latlng);
    layers.drawing.clearLayers();
    L.polygon(vertices, { color: SITE_COLOURS.requested, weight: 2 }).addTo(layers.drawing);
    vertices.forEach((v) => L.circleMarker(v, { radius: 4, color: SITE_COLOURS.requested }).addTo(layers.drawing));
  }
});
$("draw-point").addEventListener("click", () => { clearSite(); setMode("point"); });
$("draw-polygon").addEventListener("click", () => { clearSite(); setMode("polygon"); });
$("draw-clear").addEventListener("click", clearSite);
$("draw-centre").addEventListener("click", () => placePoint(map.getCenter()));
$("draw-finish").addEventListener("click", () => {
  if (vertices.length < 3) { $("site-hint").textContent = "Un périmètre a au moins trois sommets."; return; }
  const ring = vertices.map((v) => [Number(v.lng.toFixed(6)), Number(v.lat.toFixed(6))]);
  site = { type: "Polygon", coordinates: [[...ring, ring[0]]] };
  setMode(null);
});

// The commune's addresses (the server filters them by INSEE code): a click places the site there.
async function findAddress() {
  await searchAddress($("address").value, {
    scope: { commune: commune.properties.code },
    list: $("address-results"),
    empty: "Aucune adresse trouvée dans la commune : placez le site sur la carte.",
    fill: $("address"),
    map,
    onPick: (r, latlng) => placePoint(latlng, r.label),
  });
}
$("address-search").addEventListener("click", () => findAddress().catch(showError));
$("address").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); findAddress().catch(showError); } });

// -- filing ---------------------------------------------------------------------------
function formBody() {
  const value = (id) => $(id).value.trim() || null;
  return {
    commune_code: commune.properties.code,
    kind: $("kind").value,
    site,
    address: value("address"),
    site_name: value("site-name"),
    need: $("need").value.trim(),
    desired_from: value("desired-from"),
    desired_to: value("desired-to"),
    contact_name: $("contact-name").value.trim(),
    contact_role: value("contact-role"),
    contact_email: value("contact-email"),
    contact_phone: value("contact-phone"),
  };
}

// What the form misses before it is sent: the field and what to do, in French.
function missing(body) {
  if (!body.site && !body.address) return { field: "site", msg: "placez le site sur la carte (point ou périmètre) ou indiquez son adresse" };
  if (!body.need) return { field: "need", msg: "expliquez le besoin" };
  if (!body.contact_name) return { field: "contact_name", msg: "indiquez le nom du contact" };
  if (!body.contact_email && !body.contact_phone) return { field: "contact_email", msg: "indiquez un courriel ou un téléphone" };
  return null;
}

async function file(body) {
  $("request-result").textContent = "";
  $("duplicate-box").hidden = true;
  $("submit-request").disabled = true;
  try {
    const r = await postJSON("/api/audits", body);
    $("request-result").textContent = `Demande n° ${r.id} envoyée le ${day(r.requested_on)} : statut « ${r.status_label} ».`;
    $("request-form").reset();
    clearSite();
    await showRequests();
  } catch (e) {
    if (e.status === 409 && e.code === "study_request_duplicate") {
      pendingBody = body;
      const said = e.fields[0]?.msg ?? e.message;
      $("duplicate-text").textContent = `Une demande est déjà en cours pour ce site : ${said}.`;
      $("duplicate-box").hidden = false;
    } else {
      $("request-result").textContent = "";
      showRefusal($("request-form"), e, $("request-error"), "Demande non envoyée");
    }
  } finally {
    $("submit-request").disabled = false;
  }
}

$("request-form").addEventListener("submit", (e) => {
  e.preventDefault();
  $("error").textContent = "";
  $("request-error").textContent = "";
  clearRefusal($("request-form"));
  const body = formBody();
  const why = missing(body);
  if (why) { showRefusal($("request-form"), { message: `${why.msg}.`, fields: [why] }, $("request-error"), "Demande incomplète"); return; }
  file(body);
});
$("confirm-duplicate").addEventListener("click", () => { if (pendingBody) file({ ...pendingBody, confirm_duplicate: true }); });

// -- where cameras would cover the most problems -------------------------------------
$("coverage-form").addEventListener("submit", (e) => {
  e.preventDefault();
  clearRefusal($("coverage-form"));
  $("coverage-error").textContent = "";
  suggest().catch((err) => {
    setStatus("");
    showRefusal($("coverage-form"), err, $("coverage-error"), "Calcul impossible");
  });
});

async function suggest() {
  document.body.dataset.coverage = "0";
  const p = Number($("cameras").value);
  const radius = Number($("radius").value);
  setStatus("Recherche des meilleurs emplacements…");
  const s = await getJSON(`/api/communes/${commune.properties.code}/coverage?${new URLSearchParams({ p, radius })}`);
  setStatus("");
  layers.coverage.clearLayers();
  for (const f of s.fixed) {
    L.circle([f.lat, f.lon], { radius: s.radius_m, color: SITE_COLOURS.fixed, weight: 1, fillOpacity: 0.12, dashArray: "4 3" })
      .bindTooltip(`${esc(f.label)} (déjà en place)`).addTo(layers.coverage);
  }
  for (const r of s.requested) {
    L.circle([r.lat, r.lon], { radius: s.radius_m, color: SITE_COLOURS.requested, weight: 2, fillOpacity: 0.08, dashArray: "6 4", className: "requested-circle" })
      .bindTooltip(`Votre demande n° ${r.request_id} : ${percent(r.share)} du poids à elle seule`).addTo(layers.coverage);
  }
  for (const site of s.sites) {
    L.circle([site.lat, site.lon], { radius: s.radius_m, color: SITE_COLOURS.suggested, weight: 2, fillOpacity: 0.12, className: "coverage-circle" })
      .bindTooltip(`Emplacement ${site.rank} : ${count(site.problems)} problème(s) de plus, ${percent(site.gain_share)} du poids`).addTo(layers.coverage);
    L.marker([site.lat, site.lon], { icon: L.divIcon({ className: "site-rank", html: String(site.rank), iconSize: [22, 22] }), interactive: false }).addTo(layers.coverage);
  }
  const method = s.method === "exact"
    ? (s.optimal ? "optimum exact (programme linéaire en nombres entiers, HiGHS)" : `meilleure solution trouvée, à moins de ${percent(s.gap)} de l'optimum`)
    : `méthode gloutonne, à moins de ${percent(s.gap)} de l'optimum (borne prouvée)`;
  const where = s.candidate_kind === "intersection" ? "aux carrefours du réseau de rues" : "aux centres de mailles hexagonales d'environ 75 m";
  $("coverage-text").innerHTML =
    `Sur ${fmt.int.format(s.problems)} problèmes des 12 derniers mois${s.synthetic_problems ? " (fictifs)" : ""}, pondérés par catégorie et ancienneté, ` +
    `${s.sites.length} caméra(s) ${where} couvriraient <strong>${percent(s.covered_share - s.fixed_share)}</strong> des problèmes pondérés` +
    (s.fixed.length ? `, en plus des ${percent(s.fixed_share)} déjà couverts par ${s.fixed.length} site(s) existant(s)` : "") +
    `, soit <strong>${percent(s.covered_share)}</strong> au total (${fmt.int.format(s.problems_covered)} problèmes à moins de ${fmt.int.format(s.radius_m)} m). ` +
    `Calcul : ${method}, parmi ${fmt.int.format(s.candidates)} emplacements possibles.`;
  if (s.sites.length < p) {
    $("coverage-text").innerHTML += ` Seuls ${s.sites.length} emplacement(s) ajoutent des problèmes couverts : les autres n'en couvriraient aucun de plus.`;
  }
  const body = $("coverage-table").querySelector("tbody");
  body.innerHTML = s.sites.map((site) => `<tr><td>${site.rank}</td><td>${count(site.problems)}</td><td>${percent(site.gain_share)}</td><td>${percent(site.cumulative_share)}</td><td class="near-address" data-rank="${site.rank}">…</td></tr>`).join("");
  // The address nearest each suggested site (« près du 12 faubourg de France »).
  for (const site of s.sites) {
    nearestAddress(L.latLng(site.lat, site.lon)).then((near) => {
      body.querySelector(`.near-address[data-rank="${site.rank}"]`).textContent = near.found ? near.near : "—";
    }).catch(() => {});
  }
  $("coverage-table").hidden = !s.sites.length;
  $("requested-scores").innerHTML = s.requested.length
    ? `<li><strong>Vos sites demandés</strong> couvrent ensemble ${percent(s.requested_share)} :</li>` +
      s.requested.map((r) => `<li>Demande n° ${r.request_id} (${esc(taxonomy.kinds[r.kind])}) : ${percent(r.share)} seule, ${count(r.problems)} problème(s)</li>`).join("")
    : "";
  document.body.dataset.coverage = "1";
}

const refreshDashboard = () => showDashboard(commune.properties.code, layers.covered);
initConventions(map, layers.quartier, () => commune.properties.code, refreshDashboard);
initContracts(() => communes, () => commune.properties.code, refreshDashboard);
init().catch(showError);
