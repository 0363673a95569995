// Espace commune, its dashboard (issue 18): the commune's problems as aggregates (last 90
// days against the 90 before, small counts masked, hot-spot trends), the GPOs of its
// territory and their next meetings, its conventions de participation citoyenne and their
// renewals (and the covered quartiers on the map), its interventions of 30 days, the
// SSMSI figures of its département with source and vintage, the mayor's alert preferences
// and the commune's delivery log. Everything from GET /api/communes/{code}/dashboard and
// the routes it names; a commune outside the caller's perimeter is a 404 there.
import { day, esc, fmt, getJSON, percent, postJSON, sendJSON } from "./api.js";
import { $, can } from "./ui.js";

const COVERED_STYLE = { color: "#2a9d8f", weight: 2, dashArray: "6 4", fillOpacity: 0.08 };
const masked = (n) => (n == null ? "1 ou 2" : fmt.int.format(n));
const change = (v) => (v == null ? "—" : `${v > 0 ? "+" : ""}${percent(v)}`);

export async function showDashboard(code, layer) {
  const d = await getJSON(`/api/communes/${code}/dashboard`);
  const p = d.problems;
  const trends = Object.entries(p.trends).map(([label, n]) => `${esc(label)} : ${n}`).join(" · ") || "aucune";
  $("dash-problems").innerHTML =
    `<p><strong>${masked(p.count)}</strong> problème(s) du ${day(p.date_from)} au ${day(p.date_to)} ` +
    `(90 jours précédents : ${masked(p.previous_count)}) · ${fmt.int.format(p.hot_cells)} maille(s) en point chaud</p>` +
    `<p class="hint">Tendance des mailles : ${trends}. Comptes agrégés, ceux de 1 ou 2 masqués ; jamais un signalement.` +
    `${p.synthetic ? " Problématiques <strong>fictives</strong> (démonstration)." : ""}</p>`;
  $("dash-gpos").innerHTML = d.gpos.map((g) =>
    `<li><strong>${esc(g.name)}</strong> — prochaine réunion ` +
    `${g.next_meeting_on ? `le ${day(g.next_meeting_on)}` : `attendue au plus tard le ${day(g.next_meeting_due)}`}` +
    `${g.overdue ? " <span class=\"error-text\">(en retard)</span>" : ""}</li>`).join("")
    || "<li class=\"hint\">Aucun GPO ne couvre la commune (pas de plan adopté).</li>";
  $("dash-conventions").innerHTML = d.conventions.map((c) =>
    `<li data-id="${c.id}"><strong>${esc(c.quartier)}</strong> — ${esc(c.status_label)}` +
    `${c.next_renewal_on ? ` · reconduction tacite le ${day(c.next_renewal_on)}` : ""}` +
    `${c.ends_on ? ` · fin le ${day(c.ends_on)}` : ""} · ${c.referents} référent(s)` +
    `${c.synthetic ? " <em>(fictive)</em>" : ""}</li>`).join("")
    || "<li class=\"hint\">Aucune convention de participation citoyenne.</li>";
  $("dash-contracts").innerHTML = d.contracts.map((c) =>
    `<li data-id="${c.id}"><strong>${esc(c.name)}</strong> — ${c.in_force ? "en vigueur" : "hors vigueur"}` +
    `${c.start_on ? ` depuis le ${day(c.start_on)}` : ""}${c.end_on ? `, jusqu'au ${day(c.end_on)}` : ""}` +
    `${c.synthetic ? " <em>(fictif)</em>" : ""} · <a href="/csi/${c.id}/diagnostic.pdf">diagnostic partagé (PDF)</a></li>`).join("")
    || "<li class=\"hint\">Aucun contrat de sécurité intégrée.</li>";
  $("dash-interventions").textContent = `${fmt.int.format(d.interventions_30_days)} intervention(s) de police sur la commune ces 30 derniers jours.`;
  const s = d.ssmsi;
  $("dash-ssmsi-caption").textContent = `Délinquance enregistrée — département ${s.departement}`;
  $("dash-ssmsi").querySelector("tbody").innerHTML = s.figures.map((f) =>
    `<tr><th scope="row">${esc(f.indicator)}</th><td>${f.year}</td><td>${fmt.int.format(f.count)}</td>` +
    `<td>${f.rate_per_mille == null ? "—" : fmt.dec1.format(f.rate_per_mille)}</td><td>${change(f.change)}</td></tr>`).join("")
    || "<tr><td colspan=\"5\" class=\"hint\">Pas de chiffres publiés pour ce département.</td></tr>";
  $("dash-ssmsi-source").textContent = `Source : ${s.source}. ${s.vintage}. ${s.licence}. ${s.note}`;
  const covered = await getJSON(`/api/conventions/map?commune=${code}`);
  layer.clearLayers();
  L.geoJSON(covered, {
    style: () => COVERED_STYLE,
    onEachFeature: (f, l) => l.bindTooltip(`Participation citoyenne : ${esc(f.properties.quartier)} (${esc(f.properties.status_label)})`),
  }).addTo(layer);
  if (can("alert_preferences")) await showPreferences();
  await showDeliveries(code);
}

async function showPreferences() {
  const p = await getJSON("/api/alert-preferences");
  $("alerts-section").hidden = false;
  $("pref-email").checked = p.channels.includes("email");
  $("pref-sms").checked = p.channels.includes("sms");
  $("pref-phone").value = p.phone ?? "";
  $("pref-quiet-from").value = p.quiet_from ?? "";
  $("pref-quiet-to").value = p.quiet_to ?? "";
}

async function showDeliveries(code) {
  const log = await getJSON(`/api/communes/${code}/deliveries?limit=10`);
  $("dash-deliveries").innerHTML = log.data.map((m) =>
    `<li>${day(m.created_at.slice(0, 10))} · ${m.channel === "sms" ? "SMS" : "courriel"} à ${esc(m.recipient)} — ${esc(m.subject)} ` +
    `<span class="hint">(${m.status === "sent" ? "envoyé" : m.status === "failed" ? "échec" : "en attente"})</span></li>`).join("")
    || "<li class=\"hint\">Aucun message envoyé pour la commune.</li>";
}

if ($("alerts-form")) {
  $("alerts-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const channels = [["pref-email", "email"], ["pref-sms", "sms"]].filter(([id]) => $(id).checked).map(([, c]) => c);
    const body = {
      channels, phone: $("pref-phone").value || null,
      quiet_from: $("pref-quiet-from").value || null, quiet_to: $("pref-quiet-to").value || null,
    };
    try {
      await sendJSON("PUT", "/api/alert-preferences", body);
      $("alerts-result").textContent = "Préférences enregistrées.";
    } catch (err) {
      $("alerts-result").textContent = `Erreur : ${err.message}`;
    }
  });
}

// -- a new convention: a quartier drawn on the map, or the whole commune ------------------
export function initConventionForm(map, layer, currentCode, refresh) {
  if (!$("convention-form") || !can("convention_write")) return;
  let drawing = false;
  let vertices = [];
  const redraw = () => {
    layer.clearLayers();
    if (vertices.length) L.polygon(vertices, COVERED_STYLE).addTo(layer);
  };
  const setDrawing = (on) => {
    drawing = on;
    $("conv-draw").setAttribute("aria-pressed", on);
    map.getContainer().style.cursor = on ? "crosshair" : "";
  };
  map.on("click", (e) => {
    if (!drawing) return;
    vertices.push(e.latlng);
    redraw();
    $("conv-hint").textContent = `${vertices.length} sommet(s) ; le quartier se ferme de lui-même.`;
  });
  $("conv-draw").addEventListener("click", () => { vertices = []; redraw(); setDrawing(!drawing); });
  $("conv-clear").addEventListener("click", () => { vertices = []; redraw(); setDrawing(false); });
  const signed = (role, id) => ({ role, name: { prefet: "Préfet", maire: "Maire", chef_csp: "Chef de CSP" }[role], signed_on: $(id).value || null });
  $("convention-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const whole = $("conv-whole").checked;
    const ring = vertices.map((v) => [Number(v.lng.toFixed(6)), Number(v.lat.toFixed(6))]);
    const body = {
      commune_code: currentCode(),
      quartier: $("conv-quartier").value.trim() || (whole ? "Toute la commune" : ""),
      whole_commune: whole,
      quartier_geom: whole || ring.length < 3 ? null : { type: "Polygon", coordinates: [[...ring, ring[0]]] },
      start_on: $("conv-start").value || null,
      signatories: [signed("prefet", "conv-prefet"), signed("maire", "conv-maire"), signed("chef_csp", "conv-chef")],
      referents: $("conv-referents").value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
        const [name, phone] = l.split(";").map((x) => x.trim());
        return { name, phone: phone || null };
      }),
    };
    $("conv-result").className = "";
    try {
      const created = await postJSON("/api/conventions", body);
      $("conv-result").className = "ok-text";
      $("conv-result").textContent = `Convention n° ${created.id} enregistrée (${created.status_label.toLowerCase()}).`;
      vertices = []; redraw(); setDrawing(false);
      await refresh();
    } catch (err) {
      $("conv-result").className = "error-text";
      $("conv-result").textContent = err.message;
    }
  });
}
