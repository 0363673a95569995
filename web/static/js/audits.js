// The référents' queue (DDSP view): every safety-study request of a CSP with the evidence
// the problems give for its site (problems within 200 m over 12 months by category, Gi*
// hot spot, trend), sortable by evidence or waiting time; each request moves through its
// steps here; the référents' workload below. A commune sees its own requests and their
// steps; the workload, the steps to record and the référents' list are the référents'.
import { bindCspSelect, day, esc, fmt, getJSON, isoDay, postForm, postJSON } from "./api.js";
import { $, CATEGORY_COLOURS, PALETTE, can, createMap, labelOptions, nearestAddress, showBaseMapLegend, showError, showOutline } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const WORKS = can("study_work");  // moves requests, sees the référents

const STATUS_COLOURS = PALETTE.audit_statuses;
const HOT = PALETTE.hotspots;

const map = createMap({ maxZoom: 19 }, { followResize: true });
const outlineLayer = L.layerGroup().addTo(map);
const siteLayer = L.layerGroup().addTo(map);

let taxonomy = null;
let categories = {};
let csp = null;
let requests = [];
let referents = [];
let selected = null;

async function showCsp(next) {
  csp = next;
  showBaseMapLegend(map, csp.id);  // the CSP's own base layers
  outlineLayer.clearLayers();
  showOutline(map, await getJSON(`/api/csp/${csp.id}`), { into: outlineLayer, style: { weight: 2 }, padding: [0, 0] });
  await refresh();
}

async function refresh() {
  document.body.dataset.ready = "0";
  $("error").textContent = "";
  // The evidence around each site (problem counts, not masked) is the référents' alone.
  const params = new URLSearchParams({ csp: csp.id, order: $("order").value });
  if (WORKS) params.set("evidence", "true");
  if ($("status-filter").value === "open") taxonomy.open_statuses.forEach((s) => params.append("status", s));
  const [queue, refs] = await Promise.all([
    getJSON(`/api/audits?${params}`),
    WORKS ? getJSON(`/api/csp/${csp.id}/referents`) : { data: [] },
  ]);
  requests = queue.data;
  referents = refs.data;
  $("queue-hint").textContent = queue.count && !WORKS ? `${queue.count} demande(s).` : queue.count
    ? `${queue.count} demande(s). Éléments d'appréciation : problèmes à moins de ${fmt.int.format(taxonomy.evidence_radius_m)} m du site du ${day(queue.date_from)} au ${day(queue.date_to)}, statut de point chaud (Gi*) et tendance de sa maille.`
    : "Aucune demande.";
  $("synthetic-banner").hidden = !queue.synthetic_problems;
  drawTable();
  drawReferents();
  drawMap();
  if (selected) showDetail(requests.find((r) => r.id === selected.id) ?? null);
  document.body.dataset.ready = "1";
}

function evidenceCell(r) {
  const e = r.evidence;
  if (!e) return "—";
  const top = Object.entries(e.by_category).slice(0, 3)
    .map(([c, n]) => `<span class="swatch" style="background:${CATEGORY_COLOURS[c]}"></span>${esc(categories[c] ?? c)} : ${n}`).join("<br>");
  return `<strong>${fmt.int.format(e.problems)}</strong><div class="evidence-cats">${top}</div>`;
}

function drawTable() {
  $("queue").querySelector("tbody").innerHTML = requests.map((r) => `
    <tr data-id="${r.id}" tabindex="0" aria-selected="${selected?.id === r.id}">
      <td>${r.id}${r.duplicate_of ? ` <span class="badge" title="Une autre demande est ouverte pour ce site">doublon de n° ${r.duplicate_of}</span>` : ""}</td>
      <td><strong>${esc(r.commune_name)}</strong><br>${esc(r.site_name || "")} <span class="hint">${esc(r.kind_label)}</span></td>
      <td><span class="status-badge" style="background:${STATUS_COLOURS[r.status]}">${esc(r.status_label)}</span></td>
      <td>${fmt.int.format(r.waiting_days)} j<br><span class="hint">depuis le ${day(r.requested_on)}</span></td>
      <td class="evidence-col">${evidenceCell(r)}</td>
      <td class="evidence-col">${r.evidence && r.evidence.hotspot_level > 0 ? `<span class="swatch" style="background:${HOT[r.evidence.hotspot_level]}"></span>${esc(r.evidence.hotspot_label)}` : "non"}${r.evidence?.trend_label ? `<br><span class="hint">${esc(r.evidence.trend_label)}</span>` : ""}</td>
      <td>${esc(r.referent ?? "—")}${r.planned_on ? `<br>${day(r.planned_on)}` : ""}</td>
    </tr>`).join("");
  $("queue").querySelectorAll("tbody tr").forEach((row) => {
    const pick = () => showDetail(requests.find((r) => r.id === Number(row.dataset.id)));
    row.addEventListener("click", pick);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") pick(); });
  });
}

function drawReferents() {
  $("referents").querySelector("tbody").innerHTML = referents.map((r) => `
    <tr><td>${esc(r.name)} <span class="hint">${esc(r.role_label)}${r.grade ? `, ${esc(r.grade)}` : ""}</span></td>
    <td>${r.planned}</td><td>${day(r.next_on)}</td><td>${r.awaiting_recommendations}</td><td>${r.done_12_months}</td></tr>`).join("")
    || `<tr><td colspan="5" class="hint">Aucun référent enregistré pour cette CSP.</td></tr>`;
}

function drawMap() {
  siteLayer.clearLayers();
  L.geoJSON({ type: "FeatureCollection", features: requests.map((r) => ({ type: "Feature", geometry: r.geometry, properties: r })) }, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 7, weight: 2, color: "#fff", fillColor: STATUS_COLOURS[f.properties.status], fillOpacity: 1 }),
    style: (f) => ({ color: STATUS_COLOURS[f.properties.status], weight: 2, fillOpacity: 0.2 }),
    onEachFeature: (f, layer) => {
      layer.bindTooltip(`n° ${f.properties.id} — ${esc(f.properties.commune_name)} : ${esc(f.properties.site_name || f.properties.kind_label)}`);
      layer.on("click", () => showDetail(requests.find((r) => r.id === f.properties.id)));
    },
  }).addTo(siteLayer);
}

// -- one request and its next steps ---------------------------------------------------
const STEP_LABELS = {
  acceptee: "Accepter", planifiee: "Planifier", realisee: "Étude réalisée",
  preconisations_remises: "Remettre les préconisations", refusee: "Refuser",
};

function stepForm(r, status) {
  const today = isoDay();
  const fields = {
    planifiee: `<label for="f-planned">Date de l'étude</label><input id="f-planned" name="planned_on" type="date" required value="${r.planned_on ?? today}">
      <label for="f-referent">Référent</label><select id="f-referent" name="referent_id">${referents.filter((x) => x.active).map((x) => `<option value="${x.id}" ${x.id === r.referent_id ? "selected" : ""}>${esc(x.name)} (${x.planned} planifiée(s))</option>`).join("")}</select>`,
    refusee: `<label for="f-reason">Motif communiqué à la commune</label><textarea id="f-reason" name="reason" rows="2" required></textarea>`,
    preconisations_remises: `<label for="f-recommendations">Préconisations (ou joignez un document)</label><textarea id="f-recommendations" name="recommendations" rows="3"></textarea>
      <label for="f-document">Document</label><input id="f-document" name="file" type="file" accept=".pdf,.odt,.docx,.png,.jpg,.jpeg,.txt">`,
  }[status] ?? "";
  return `<form class="form-grid step-form" data-status="${status}" novalidate>
    <h3>${STEP_LABELS[status]}</h3>${fields}
    <label for="f-on-${status}">Date de l'étape</label><input id="f-on-${status}" name="on" class="f-on" type="date" value="${today}" max="${today}">
    <button type="submit">${STEP_LABELS[status]}</button>
    <p class="error-text step-error" id="step-error-${status}" role="alert"></p></form>`;
}

function showDetail(r) {
  selected = r;
  $("queue").querySelectorAll("tbody tr").forEach((row) => row.setAttribute("aria-selected", String(Number(row.dataset.id) === r?.id)));
  if (!r) { $("detail").innerHTML = `<p class="hint">Choisissez une demande.</p>`; return; }
  const next = WORKS ? taxonomy.transitions[r.status] : [];
  const steps = r.events.map((e) => `<li>${day(e.on)} — ${esc(e.status_label)}${e.planned_on ? ` : étude le ${day(e.planned_on)} (${esc(e.referent ?? "")})` : ""}${e.note ? ` — ${esc(e.note)}` : ""}</li>`).join("");
  $("detail").innerHTML = `
    <h2>Demande n° ${r.id} — ${esc(r.commune_name)}</h2>
    <p><strong>${esc(r.site_name || r.kind_label)}</strong>${r.site_name ? ` · ${esc(r.kind_label)}` : ""}${r.address ? ` · ${esc(r.address)}` : ""} <span id="detail-near" class="hint"></span></p>
    <p>${esc(r.need)}</p>
    <p class="hint">Période souhaitée : ${r.desired_from || r.desired_to ? `${day(r.desired_from)} – ${day(r.desired_to)}` : "non précisée"} · Contact : ${esc(r.contact_name)}${r.contact_role ? ` (${esc(r.contact_role)})` : ""} ${esc(r.contact_email ?? "")} ${esc(r.contact_phone ?? "")}</p>
    ${r.duplicate_of ? `<p class="error-text">Une autre demande (n° ${r.duplicate_of}) est ouverte pour ce site.</p>` : ""}
    ${r.document ? `<p><a href="/api/audits/${r.id}/document">Préconisations : ${esc(r.document)}</a></p>` : ""}
    <ol class="notes">${steps}</ol>
    ${next.length ? next.map((s) => stepForm(r, s)).join("") : `<p class="hint">${WORKS || !taxonomy.transitions[r.status].length ? "Demande close." : "Demande en cours de traitement par les référents sûreté."}</p>`}
`;
  $("detail").querySelectorAll(".step-form").forEach((form) => form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearRefusal(form);
    form.querySelector(".step-error").textContent = "";
    move(r, form).catch((err) => showRefusal(form, err, form.querySelector(".step-error"), "Étape non enregistrée"));
  }));
  const centre = L.geoJSON(r.geometry).getBounds().getCenter();
  map.setView(centre, Math.max(map.getZoom(), 15));
  // The address nearest the site (« près du 12 faubourg de France »).
  nearestAddress(centre).then((near) => {
    if (near.found && selected === r) $("detail-near").textContent = `(${near.near})`;
  }).catch(() => {});
}

async function move(r, form) {
  const status = form.dataset.status;
  const value = (sel) => form.querySelector(sel)?.value?.trim() || null;
  const body = { status, on: value(".f-on") };
  if (status === "planifiee") Object.assign(body, { planned_on: value("#f-planned"), referent_id: Number(value("#f-referent")) || null });
  if (status === "refusee") body.reason = value("#f-reason");
  if (status === "preconisations_remises") {
    body.recommendations = value("#f-recommendations");
    const fileInput = form.querySelector("#f-document");
    if (fileInput.files.length) {
      const data = new FormData();
      data.append("file", fileInput.files[0]);
      await postForm(`/api/audits/${r.id}/document`, data);
    }
  }
  selected = await postJSON(`/api/audits/${r.id}/transitions`, body);
  await refresh();
}

$("order").addEventListener("change", () => refresh().catch(showError));
$("status-filter").addEventListener("change", () => refresh().catch(showError));
$("referent-form").addEventListener("submit", (e) => {
  e.preventDefault();
  clearRefusal(e.target);
  $("referent-error").textContent = "";
  postJSON(`/api/csp/${csp.id}/referents`, {
    name: $("referent-name").value.trim(), role: $("referent-role").value,
    grade: $("referent-grade").value.trim() || null, contact: $("referent-contact").value.trim() || null,
  }).then(() => { e.target.reset(); return refresh(); })
    .catch((err) => showRefusal(e.target, err, $("referent-error"), "Référent non ajouté"));
});

async function init() {
  const [tax, problemTax] = await Promise.all([getJSON("/api/audits/taxonomy"), getJSON("/api/taxonomy")]);
  taxonomy = tax;
  categories = problemTax.categories;
  $("referent-role").replaceChildren(...labelOptions(tax.referent_roles));
  $("referents-section").hidden = !WORKS;
  if (!WORKS) {
    // A commune follows its own requests: no evidence columns, its own title.
    document.body.classList.add("no-evidence");
    document.querySelector("h1").textContent = "Études de sûreté : vos demandes";
    $("order").querySelector('option[value="evidence"]').remove();
    $("order").value = "waiting";
  }
  $("referent-form").closest("details").hidden = !can("admin");
  if (!(await bindCspSelect($("csp-select"), showCsp, showError))) $("error").textContent = "Aucune CSP : importez un territoire.";
}

init().catch(showError);
