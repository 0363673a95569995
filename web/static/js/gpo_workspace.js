// A GPO's workspace (/gpo/{id}): composition (GET/PATCH /api/gpos/{id}, the CSP's partners),
// perimeter (the adopted plan's sectors), cadence, meetings (GET/POST
// /api/gpos/{id}/meetings), open problems, actions by partner (GET /api/actions?gpo=) and
// key figures. What the caller's role may not do is not shown (can(), ui.js).
import { day, esc, getJSON, isoDay, postJSON, sendJSON, today } from "./api.js";
import { $, can, createMap, OUTLINE_STYLE, showBaseMapLegend } from "./ui.js";
import { clearRefusal } from "./forms.js";
import { cadenceLabel, clearErrors, partnerText, refusedField, showGpoRefusal, stateBadge } from "./gpo_common.js";

const GPO_ID = Number($("workspace").dataset.gpo);
const WRITE = can("gpo_write");        // its chef (and the direction)
const MEMBERS = can("gpo_members");    // partners, meetings
const RECORDS = can("problem_records"); // problems and actions
const FINISHED = ["realisee", "abandonnee"];
const GPO_CONFLICT = "Quelqu'un a modifié ce GPO entre-temps : rechargez la page.";
let gpo = null;
let partners = [];     // the CSP's partners (members only)
let taxonomy = null;
let map = null;

const sectorsOf = (g) => (g.sector == null ? g.sectors : [g.sector]);

// Save a change of the GPO from `form`; its refusal is said there, and in `errorBox`.
async function patchGpo(body, form, errorBox) {
  clearRefusal(form);
  clearErrors(errorBox);
  try {
    gpo = await sendJSON("PATCH", `/api/gpos/${GPO_ID}`, { ...body, version: gpo.version });
    showGpo();
    return true;
  } catch (e) {
    showGpoRefusal(form, e, errorBox, "Modification refusée", GPO_CONFLICT);
    return false;
  }
}

function showGpo() {
  document.title = `${gpo.name} — GPO — PSQ Secteurs`;
  $("gpo-name").textContent = gpo.name;
  $("gpo-summary").innerHTML = `${gpo.kind === "thematic" ? "GPO thématique" : "GPO de secteur"} · ${stateBadge(gpo)}`
    + ` · dernière réunion : ${day(gpo.last_meeting_on)} · prochaine : `
    + (gpo.next_meeting_on ? day(gpo.next_meeting_on) : `à planifier avant le ${day(gpo.next_meeting_due)}`);
  const person = (grade, name) => (name ? `${esc(grade ?? "")} ${esc(name)}` : '<span class="hint">non renseigné</span>');
  $("chief").innerHTML = person(gpo.chief_grade, gpo.chief_name) + (gpo.chief_contact ? ` · ${esc(gpo.chief_contact)}` : "");
  $("deputy").innerHTML = person(gpo.deputy_grade, gpo.deputy_name);
  $("cadence-text").innerHTML = `Réunions <strong>${cadenceLabel(gpo.cadence_days)}</strong>. `
    + `Prochaine réunion due le ${day(gpo.next_meeting_due)} ${stateBadge(gpo)}`;
  $("f-cadence").value = String(gpo.cadence_days);
  $("problems-text").innerHTML = `<strong>${gpo.open_problems}</strong> problématique(s) ouverte(s).`
    + (RECORDS ? ` <a href="/problematiques?csp=${gpo.csp_id}&gpo=${GPO_ID}">Voir et filtrer les problématiques du GPO</a>` : "");
  if (gpo.kind === "thematic") {
    $("categories-label").hidden = $("categories").hidden = false;
    $("categories").textContent = gpo.categories.map((c) => taxonomy.categories[c] ?? c).join(", ") || "toutes";
  }
  showPartners();
}

function showPartners() {
  if (!MEMBERS) {
    $("partners-hint").textContent = `${gpo.partner_ids.length} organisation(s) partenaire(s).`;
    return;
  }
  const members = partners.filter((p) => gpo.partner_ids.includes(p.id));
  $("partners-hint").textContent = members.length ? "" : "Aucun partenaire dans ce GPO.";
  $("partner-table").hidden = !members.length;
  $("partner-table").querySelector("tbody").replaceChildren(...members.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.partner = p.id;
    tr.innerHTML = `<th scope="row">${esc(p.organisation)}</th><td>${esc(p.type_label)}</td>`
      + `<td>${esc(p.contact_name ?? "—")}</td><td>${esc(p.contact ?? "—")}</td>`
      + `<td>${WRITE ? '<button type="button" class="remove">Retirer</button>' : ""}</td>`;
    tr.querySelector(".remove")?.addEventListener("click", () => {
      if (!confirm(`Retirer ${p.organisation} du GPO ?`)) return;
      patchGpo({ partner_ids: gpo.partner_ids.filter((id) => id !== p.id) }, $("partner-tools"), $("partner-error"));
    });
    return tr;
  }));
  const others = partners.filter((p) => !gpo.partner_ids.includes(p.id));
  $("add-partner").replaceChildren(...others.map((p) => new Option(`${p.organisation} (${p.type_label})`, p.id)));
  $("add-partner-form").hidden = !others.length;
  // The invitations of a new meeting: every partner, checked.
  $("m-invited").replaceChildren(...members.map((p) => {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" name="invited" value="${p.id}" checked> ${partnerText(p)}`;
    return label;
  }));
}

async function showPerimeter() {
  $("cartography-link").href = `/cartographie?csp=${gpo.csp_id}&gpo=${GPO_ID}`;
  if (!can("sectors_read")) return;
  const plans = await getJSON(`/api/csp/${gpo.csp_id}/plans`);
  const adopted = plans.data.find((p) => p.status === "adopted");
  if (!adopted) {
    $("sector-names").textContent = "aucun plan de secteurs adopté";
    return;
  }
  const plan = await getJSON(`/api/plans/${adopted.id}`);
  const mine = new Set(sectorsOf(gpo));
  const features = plan.sectors.features.filter((f) => mine.has(f.properties.sector));
  $("sector-names").textContent = features.map((f) => f.properties.name).join(", ") || "aucun";
  map = createMap();
  showBaseMapLegend(map, gpo.csp_id);  // the CSP's own base layers
  L.geoJSON(plan.sectors, {
    interactive: false,
    style: (f) => (mine.has(f.properties.sector)
      ? { ...OUTLINE_STYLE, fill: true, fillColor: "#457b9d", fillOpacity: 0.2 }
      : { color: "#8d99ae", weight: 1, dashArray: "4 3", fill: false }),
  }).addTo(map);
  if (features.length) map.fitBounds(L.geoJSON({ type: "FeatureCollection", features }).getBounds(), { padding: [20, 20] });
}

function presentCount(m) {
  const invited = m.partners.filter((p) => p.invited).length;
  const present = m.partners.filter((p) => p.present).length;
  return m.status === "close" || m.partners.some((p) => p.present !== null) ? `${present} / ${invited}` : `— / ${invited}`;
}

const MEETINGS_SHOWN = 8;
let meetings = [];
let showAllMeetings = false;
async function showMeetings() {
  if (!MEMBERS) {
    $("meetings-hint").textContent = `Dernière réunion : ${day(gpo.last_meeting_on)} ; prochaine : ${day(gpo.next_meeting_on ?? gpo.next_meeting_due)}.`;
    return;
  }
  meetings = (await getJSON(`/api/gpos/${GPO_ID}/meetings`)).data;
  meetings.sort((a, b) => b.held_on.localeCompare(a.held_on));
  $("meeting-table").hidden = !meetings.length;
  $("meetings-hint").textContent = meetings.length ? "" : "Aucune réunion enregistrée.";
  // The planned meetings and the last closed ones; « Toutes les réunions » shows the rest.
  const shown = showAllMeetings ? meetings : meetings.filter((m, i) => m.status === "prevue" || i < MEETINGS_SHOWN);
  $("meetings-more").hidden = shown.length === meetings.length;
  $("meetings-more").textContent = `Toutes les réunions (${meetings.length})`;
  $("meeting-table").querySelector("tbody").replaceChildren(...shown.map((m) => {
    const tr = document.createElement("tr");
    tr.dataset.meeting = m.id;
    const report = m.has_report ? `<a href="/api/meetings/${m.id}/compte-rendu.pdf" class="report-link">Compte rendu (PDF)</a>` : "—";
    tr.innerHTML = `<th scope="row"><a href="/gpo/reunions/${m.id}">${day(m.held_on)}${m.starts_at ? ` à ${m.starts_at.slice(0, 5)}` : ""}</a></th>`
      + `<td>${esc(m.status_label)}</td><td>${presentCount(m)}</td><td class="num">${m.decisions.length}</td><td>${report}</td>`;
    return tr;
  }));
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(item);
  }
  return groups;
}

let actions = [];
async function showActions() {
  if (!RECORDS) {
    $("actions-hint").textContent = `${gpo.actions_due} action(s) à échéance dans la cadence, ${gpo.actions_overdue} en retard.`;
    return;
  }
  actions = (await getJSON(`/api/actions?gpo=${GPO_ID}&limit=2000`)).data;
  showActionTable();
}

// The open actions and those finished in the last 30 days; all of them when asked.
function showActionTable() {
  const since = isoDay(new Date(today().getTime() - 30 * 86_400_000));
  const finishedOn = (a) => a.events.filter((e) => FINISHED.includes(e.status)).at(-1)?.on ?? a.start_on;
  const shown = $("all-actions").checked ? actions : actions.filter((a) => !FINISHED.includes(a.status) || finishedOn(a) >= since);
  $("action-table").hidden = !shown.length;
  $("all-actions-label").hidden = !actions.length;
  $("actions-hint").textContent = actions.length
    ? `${shown.length} action(s) affichée(s) sur ${actions.length} : les actions ouvertes et celles terminées depuis moins de 30 jours. Les actions en retard sont en rouge.`
    : "Aucune action.";
  const byPartner = groupBy(shown, (a) => a.lead_partner ?? "Sans pilote");
  const rows = [];
  for (const [partner, list] of [...byPartner].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => (a.due_on ?? "9999").localeCompare(b.due_on ?? "9999"));
    list.forEach((a, i) => {
      const tr = document.createElement("tr");
      tr.dataset.action = a.id;
      if (a.overdue) tr.classList.add("overdue");
      tr.innerHTML = (i === 0 ? `<th scope="rowgroup" rowspan="${list.length}">${esc(partner)}</th>` : "")
        + `<td>${esc(a.type_label)}</td><td><a href="/problematiques?csp=${gpo.csp_id}&problem=${a.problem_id}">${esc(a.problem_title)}</a></td>`
        + `<td>${day(a.due_on)}${a.overdue ? " (en retard)" : ""}</td><td class="action-status">${esc(a.status_label)}</td>`;
      rows.push(tr);
    });
  }
  $("action-table").querySelector("tbody").replaceChildren(...rows);
}

// The GPO's problems (all statuses): those of its sectors (a sector GPO: placed in it; a
// thematic one: of its categories, if any).
async function gpoProblems() {
  const params = new URLSearchParams(sectorsOf(gpo).map((s) => ["sector", s]));
  for (const c of gpo.categories) params.append("category", c);
  const found = await getJSON(`/api/csp/${gpo.csp_id}/problems?${params}`);
  return found.features.map((f) => f.properties).filter((p) => gpo.kind !== "sector" || p.gpo_id === gpo.id);
}

async function showFigures() {
  const yearAgo = isoDay(new Date(today().getTime() - 365 * 86_400_000));
  const figures = [["Problématiques ouvertes", gpo.open_problems], ["Actions en retard", gpo.actions_overdue]];
  if (MEMBERS) {
    const held = meetings.filter((m) => m.status === "close" && m.held_on >= yearAgo);
    const invited = held.reduce((n, m) => n + m.partners.filter((p) => p.invited).length, 0);
    const present = held.reduce((n, m) => n + m.partners.filter((p) => p.invited && p.present).length, 0);
    figures.unshift(["Réunions tenues sur 12 mois", held.length],
      ["Taux de présence des partenaires", invited ? `${Math.round((100 * present) / invited)} %` : "—"]);
  }
  if (RECORDS) {
    const problems = await gpoProblems();
    figures.push(["Problématiques signalées sur 12 mois", problems.filter((p) => p.reported_on >= yearAgo).length],
      ["Problématiques résolues sur 12 mois", problems.filter((p) => p.status === "resolu" && p.status_on >= yearAgo).length]);
    // On time: done by its due date, by the dated step that made it « réalisée » (the
    // actions without that step, or without a due date, are not counted).
    const done = actions.filter((a) => a.status === "realisee");
    const known = done.filter((a) => a.due_on && a.events.some((e) => e.status === "realisee"));
    const onTime = known.filter((a) => a.events.filter((e) => e.status === "realisee").at(-1).on <= a.due_on);
    figures.push(["Actions réalisées", done.length],
      ["Réalisées dans les délais", known.length ? `${Math.round((100 * onTime.length) / known.length)} % (sur ${known.length})` : "—"]);
  }
  $("key-figures").replaceChildren(...figures.map(([label, value]) => {
    const div = document.createElement("div");
    div.innerHTML = `${esc(label)}<b>${esc(value)}</b>`;
    return div;
  }));
  $("reports-link").hidden = !can("reports");
}

function setUpWriting() {
  $("chief-form").hidden = $("cadence-form").hidden = $("partner-tools").hidden = $("plan-form").hidden = false;
  $("f-chief-grade").value = gpo.chief_grade ?? "";
  $("f-chief-name").value = gpo.chief_name ?? "";
  $("f-chief-contact").value = gpo.chief_contact ?? "";
  $("f-deputy-grade").value = gpo.deputy_grade ?? "";
  $("f-deputy-name").value = gpo.deputy_name ?? "";
  const text = (id) => $(id).value.trim() || null;
  $("chief-form").addEventListener("submit", (event) => {
    event.preventDefault();
    patchGpo({
      chief_grade: text("f-chief-grade"), chief_name: text("f-chief-name"), chief_contact: text("f-chief-contact"),
      deputy_grade: text("f-deputy-grade"), deputy_name: text("f-deputy-name"),
    }, $("chief-form"), $("chief-error"));
  });
  $("cadence-form").addEventListener("submit", (event) => {
    event.preventDefault();
    patchGpo({ cadence_days: Number($("f-cadence").value) }, $("cadence-form"), $("cadence-error"));
  });
  $("add-partner-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = Number($("add-partner").value);
    if (id) patchGpo({ partner_ids: [...gpo.partner_ids, id] }, $("add-partner-form"), $("partner-error"));
  });
  $("np-type").replaceChildren(...Object.entries(taxonomy.partner_types).map(([code, label]) => new Option(label, code)));
  $("new-partner-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = $("new-partner-form");
    clearErrors($("partner-error"));
    clearRefusal(form);
    const body = { organisation: $("np-organisation").value.trim(), type: $("np-type").value, contact_name: text("np-contact-name"), contact: text("np-contact") };
    if (!body.organisation) { showGpoRefusal(form, refusedField("organisation", "Organisation", "obligatoire"), $("partner-error"), "Partenaire non créé"); return; }
    try {
      const created = await postJSON(`/api/csp/${gpo.csp_id}/partners`, body);
      partners.push(created);
      if (await patchGpo({ partner_ids: [...gpo.partner_ids, created.id] }, form, $("partner-error"))) form.reset();
    } catch (e) {
      showGpoRefusal(form, e, $("partner-error"), "Partenaire non créé");
    }
  });
  if (gpo.kind === "thematic") {
    $("categories-form").hidden = false;
    $("category-checks").replaceChildren(...Object.entries(taxonomy.categories).map(([code, label]) => {
      const item = document.createElement("label");
      item.innerHTML = `<input type="checkbox" name="category" value="${esc(code)}"${gpo.categories.includes(code) ? " checked" : ""}> ${esc(label)}`;
      return item;
    }));
    $("categories-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const categories = [...document.querySelectorAll("#category-checks input:checked")].map((i) => i.value);
      patchGpo({ categories }, $("categories-form"), $("categories-error"));
    });
  }
  setUpPlanning();
}

function setUpPlanning() {
  // « Planifier la suivante » of a closed meeting comes here with ?planifier=YYYY-MM-DD.
  const proposed = new URLSearchParams(location.search).get("planifier");
  $("m-date").value = proposed ?? gpo.next_meeting_due;
  if (proposed) $("plan-form").scrollIntoView();
  $("plan-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = $("plan-form");
    clearErrors($("plan-error"), $("plan-done"));
    clearRefusal(form);
    if (!$("m-date").value) { showGpoRefusal(form, refusedField("held_on", "Date", "choisissez la date de la réunion"), $("plan-error"), "Réunion non planifiée"); return; }
    const body = {
      held_on: $("m-date").value,
      starts_at: $("m-time").value || null,
      place: $("m-place").value.trim() || null,
      invited_partner_ids: [...document.querySelectorAll("#m-invited input:checked")].map((i) => Number(i.value)),
      send_invitations: $("m-send").checked,
    };
    try {
      const meeting = await postJSON(`/api/gpos/${GPO_ID}/meetings`, body);
      $("plan-done").innerHTML = `Réunion du ${day(meeting.held_on)} planifiée${meeting.invited_at ? ", invitations envoyées" : ""}. `
        + `<a href="/gpo/reunions/${meeting.id}">Ouvrir la réunion</a>`;
      gpo = await getJSON(`/api/gpos/${GPO_ID}`);
      showGpo();
      await showMeetings();
    } catch (e) {
      showGpoRefusal(form, e, $("plan-error"), "Réunion non planifiée");
    }
  });
}

const showError = (e) => { $("error").textContent = `Erreur : ${e.detail ?? e.message}`; };

try {
  [gpo, taxonomy] = await Promise.all([getJSON(`/api/gpos/${GPO_ID}`), getJSON("/api/taxonomy")]);
  if (MEMBERS) partners = (await getJSON(`/api/csp/${gpo.csp_id}/partners`)).data;
  $("pack-link").href = `/gpo/${GPO_ID}/reunion`;
  $("pack-link").hidden = !RECORDS;
  showGpo();
  if (WRITE) setUpWriting();
  $("meetings-more").addEventListener("click", () => { showAllMeetings = true; showMeetings().catch(showError); });
  $("all-actions").addEventListener("change", showActionTable);
  await Promise.all([showMeetings(), showActions(), showPerimeter()]);
  await showFigures();
} catch (e) {
  $("error").textContent = `GPO indisponible : ${e.detail ?? e.message}`;
} finally {
  document.body.dataset.ready = "true";
}
