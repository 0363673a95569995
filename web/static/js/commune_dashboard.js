// Espace commune, its dashboard (issue 18): the commune's problems as aggregates (last 90
// days against the 90 before, small counts masked, hot-spot trends), the GPOs of its
// territory and their next meetings, its conventions de participation citoyenne and their
// renewals (and the covered quartiers on the map), the conventions' figures per CSP and
// département of the caller's perimeter, its interventions of 30 days, the
// SSMSI figures of its département with source and vintage, the mayor's alert preferences
// and the commune's delivery log. Everything from GET /api/communes/{code}/dashboard and
// the routes it names; a commune outside the caller's perimeter is a 404 there.
import { day, esc, fmt, getJSON, percent, sendJSON } from "./api.js";
import { $, can } from "./ui.js";
import { COVERED_STYLE, showConventions } from "./commune_conventions.js";
import { showContracts } from "./commune_csi.js";
import { clearRefusal, showRefusal } from "./forms.js";

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
  $("dash-interventions").textContent = `${fmt.int.format(d.interventions_30_days)} intervention(s) de police sur la commune ces 30 derniers jours.`;
  const s = d.ssmsi;
  $("dash-ssmsi-caption").textContent = `Délinquance enregistrée — département ${s.departement}`;
  $("dash-ssmsi").querySelector("tbody").innerHTML = s.figures.map((f) =>
    `<tr><th scope="row">${esc(f.indicator)}</th><td>${f.year}</td><td>${fmt.int.format(f.count)}</td>` +
    `<td>${f.rate_per_mille == null ? "—" : fmt.dec1.format(f.rate_per_mille)}</td><td>${change(f.change)}</td></tr>`).join("")
    || "<tr><td colspan=\"5\" class=\"hint\">Pas de chiffres publiés pour ce département.</td></tr>";
  $("dash-ssmsi-source").textContent = `Source : ${s.source}. ${s.vintage}. ${s.licence}. ${s.note}`;
  await Promise.all([showConventions(code), showContracts(code), showConventionFigures()]);
  const covered = await getJSON(`/api/conventions/map?commune=${code}`);
  layer.clearLayers();
  L.geoJSON(covered, {
    style: () => COVERED_STYLE,
    onEachFeature: (f, l) => l.bindTooltip(`Participation citoyenne : ${esc(f.properties.quartier)} (${esc(f.properties.status_label)})`),
  }).addTo(layer);
  if (can("alert_preferences")) await showPreferences();
  await showDeliveries(code);
}

// Communes covered, conventions in force and in project, référents, renewals to come.
async function showConventionFigures() {
  const f = await getJSON("/api/conventions/figures");
  const rows = [...f.csps.map((c) => ({ ...c, name: `CSP ${c.name}` })), ...f.departements];
  $("conv-figures").querySelector("tbody").innerHTML = rows.map((r) =>
    `<tr><th scope="row">${esc(r.name)}</th><td>${fmt.int.format(r.communes_covered)} / ${fmt.int.format(r.communes)}</td>` +
    `<td>${fmt.int.format(r.conventions_in_force)}</td><td>${fmt.int.format(r.by_status.en_projet ?? 0)}</td>` +
    `<td>${fmt.int.format(r.referents)}</td><td>${fmt.int.format(r.renewals_next_90_days)}</td></tr>`).join("");
  $("conv-figures").hidden = !rows.length;
}

async function showPreferences() {
  const p = await getJSON("/api/alert-preferences");
  $("alerts-section").hidden = false;
  $("pref-email").checked = p.channels.includes("email");
  $("pref-sms").checked = p.channels.includes("sms");
  $("pref-phone").value = p.phone ?? "";
  $("pref-quiet-from").value = p.quiet_from ?? "";
  $("pref-quiet-to").value = p.quiet_to ?? "";
  for (const box of $("pref-natures").querySelectorAll("input")) box.checked = p.natures.includes(box.value);
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
      natures: [...$("pref-natures").querySelectorAll("input:checked")].map((box) => box.value),
      quiet_from: $("pref-quiet-from").value || null, quiet_to: $("pref-quiet-to").value || null,
    };
    $("alerts-result").className = "ok-text";
    $("alerts-result").textContent = "";
    try {
      await sendJSON("PUT", "/api/alert-preferences", body);
      clearRefusal($("alerts-form"));
      $("alerts-result").textContent = "Préférences enregistrées.";
    } catch (err) {
      showRefusal($("alerts-form"), err, $("alerts-result"), "Préférences non enregistrées");
    }
  });
}
