// A GPO meeting (/gpo/reunions/{id}): its agenda (GET /api/meetings/{id}/agenda), the
// attendance and minutes (PATCH /api/meetings/{id}, with the version read: 409 when someone
// changed it meanwhile), the decisions problem by problem (POST …/decisions), the closing
// (POST …/close) and its compte rendu PDF. Partners read it; its chef writes it.
import { day, esc, getJSON, postJSON, sendJSON } from "./api.js";
import { $, can, PALETTE } from "./ui.js";
import { clearRefusal } from "./forms.js";
import { clearErrors, CONFLICT, refusedField, showGpoRefusal } from "./gpo_common.js";

const MEETING_ID = Number($("meeting-page").dataset.meeting);
const OPEN_STATUSES = ["signale", "analyse", "actions_en_cours", "evalue"];
let meeting = null;
let gpo = null;
let taxonomy = null;
let problems = new Map();  // id → { title, status }
let partners = [];         // the CSP's partners

const writable = () => can("gpo_write") && meeting.status === "prevue";

function showHeader() {
  const time = meeting.starts_at ? ` à ${meeting.starts_at.slice(0, 5).replace(":", " h ")}` : "";
  document.title = `Réunion du ${day(meeting.held_on)} — ${meeting.gpo_name} — PSQ Secteurs`;
  $("meeting-title").textContent = `${meeting.gpo_name} — réunion du ${day(meeting.held_on)}`;
  $("meeting-summary").innerHTML = `<span class="badge ${meeting.status === "close" ? "ok" : meeting.status === "annulee" ? "dropped" : ""}" id="meeting-status">${esc(meeting.status_label)}</span> `
    + `${day(meeting.held_on)}${time}${meeting.place ? ` · ${esc(meeting.place)}` : ""}`
    + (meeting.invited_at ? ` · invitations envoyées le ${new Date(meeting.invited_at).toLocaleDateString("fr-FR")}` : "");
  $("synthetic-banner").hidden = !meeting.synthetic;
  $("gpo-link").href = `/gpo/${meeting.gpo_id}`;
  $("gpo-link").textContent = `← ${meeting.gpo_name}`;
  $("ics-link").href = `/api/meetings/${MEETING_ID}/invitation.ics`;
  $("pack-link").href = $("hotspots-link").href = `/gpo/${meeting.gpo_id}/reunion`;
  $("cartography-link").href = `/cartographie?csp=${gpo.csp_id}&gpo=${meeting.gpo_id}`;
  const closed = meeting.status === "close";
  $("closed-box").hidden = !closed;
  if (closed) {
    $("closed-text").textContent = `Clôturée le ${new Date(meeting.closed_at).toLocaleDateString("fr-FR")}${meeting.closed_by ? ` par ${meeting.closed_by}` : ""}.`;
    $("report-link").href = `/api/meetings/${MEETING_ID}/compte-rendu.pdf`;
    $("report-link").hidden = !meeting.has_report;
    $("next-text").textContent = meeting.next_proposed_on
      ? `Prochaine réunion proposée selon la cadence : ${day(meeting.next_proposed_on)}.` : "";
    $("plan-next").hidden = !(can("gpo_write") && meeting.next_proposed_on);
    $("plan-next").href = `/gpo/${meeting.gpo_id}?planifier=${meeting.next_proposed_on}#meetings`;
  }
  const edit = writable();
  $("closing").hidden = !edit;
  $("decision-form").hidden = !edit;
  $("attendance-save").hidden = !edit;
  $("minutes-save").hidden = !edit;
  $("notes").readOnly = $("attendees").readOnly = !edit;
}

async function showAgenda() {
  const agenda = await getJSON(`/api/meetings/${MEETING_ID}/agenda`);
  $("agenda-since").textContent = `Depuis le ${day(agenda.since)}.`;
  const problemItem = (p) => `<li>${esc(p.title)} <span class="hint">(${esc(p.category_label)}, ${esc(p.status_label)}, signalée le ${day(p.reported_on)}${p.address ? `, ${esc(p.address)}` : ""})</span></li>`;
  $("agenda-new").innerHTML = agenda.new_problems.map(problemItem).join("") || "<li>aucune</li>";
  $("agenda-evaluate").innerHTML = agenda.to_evaluate.map(problemItem).join("") || "<li>aucune</li>";
  $("agenda-due").innerHTML = agenda.due_actions.map((a) => `<li class="${a.overdue ? "overdue" : ""}">${esc(a.type_label)} — ${esc(a.problem_title)}`
    + `${a.lead_partner ? ` · ${esc(a.lead_partner)}` : ""} · échéance ${day(a.due_on)}${a.overdue ? " <strong>(en retard)</strong>" : ""} · ${esc(a.status_label)}</li>`).join("") || "<li>aucune</li>";
  // The open problems of the agenda can be decided upon (loadProblems adds the GPO's others).
  for (const p of [...agenda.new_problems, ...agenda.to_evaluate]) {
    if (OPEN_STATUSES.includes(p.status)) problems.set(p.id, { title: p.title, status: p.status });
  }
}

// The hot spots of the last 90 days compared with the 90 before, in the GPO's area (the
// meeting pack draws them): counts of cells by trend.
async function showHotspotTrends() {
  if (!can("problem_maps")) return;
  try {
    const comparison = await getJSON(`/api/csp/${gpo.csp_id}/hotspots/comparison?gpo=${meeting.gpo_id}`);
    const counts = {};
    for (const f of comparison.features) counts[f.properties.trend] = (counts[f.properties.trend] ?? 0) + 1;
    const labels = PALETTE.trend_labels ?? {};
    $("hotspot-trends").innerHTML = ["new", "intensifying", "persistent", "diminishing"]
      .map((code) => [code, labels[code] ?? code]).map(([code, label]) => `<li>${esc(label)} : ${counts[code] ?? 0} cellule(s)</li>`).join("");
  } catch (e) {
    $("hotspot-trends").innerHTML = `<li class="hint">Évolution indisponible : ${esc(e.detail ?? e.message)}</li>`;
  }
}

async function loadProblems() {
  const params = new URLSearchParams(OPEN_STATUSES.map((s) => ["status", s]));
  for (const s of gpo.sector == null ? gpo.sectors : [gpo.sector]) params.append("sector", s);
  for (const c of gpo.categories) params.append("category", c);
  const found = await getJSON(`/api/csp/${gpo.csp_id}/problems?${params}`);
  for (const f of found.features) {
    const p = f.properties;
    if (gpo.kind === "sector" && p.gpo_id !== gpo.id) continue;
    problems.set(p.id, { title: p.title, status: p.status });
  }
}

function showAttendance() {
  const rows = meeting.partners.filter((p) => p.invited || p.present);
  // Each row's inputs carry the API's field (attendance.<row>.represented_by): a refusal lands there.
  $("attendance-table").querySelector("tbody").replaceChildren(...rows.map((p, i) => {
    const tr = document.createElement("tr");
    tr.dataset.partner = p.partner_id;
    const disabled = writable() ? "" : " disabled";
    tr.innerHTML = `<th scope="row">${esc(p.organisation)} <span class="hint">(${esc(p.type_label)}${p.contact_name ? `, ${esc(p.contact_name)}` : ""})</span></th>`
      + `<td><input type="checkbox" class="present" aria-label="Présent : ${esc(p.organisation)}"${p.present ? " checked" : ""}${disabled}></td>`
      + `<td><input class="represented" data-field="attendance.${i}.represented_by" maxlength="200" aria-label="Représenté par : ${esc(p.organisation)}" value="${esc(p.represented_by ?? "")}"${disabled}></td>`;
    return tr;
  }));
  if (!rows.length) $("attendance-table").querySelector("tbody").innerHTML = '<tr><td colspan="3" class="hint">Aucun partenaire invité.</td></tr>';
  $("attendees").value = meeting.attendees.join("\n");
  $("notes").value = meeting.notes ?? "";
}

function showDecisions() {
  const groups = new Map();
  for (const d of meeting.decisions) {
    const key = d.problem_id ?? 0;
    if (!groups.has(key)) groups.set(key, { title: d.problem_title, list: [] });
    groups.get(key).list.push(d);
  }
  const ordered = [...groups].sort(([a], [b]) => (a === 0) - (b === 0));
  $("decision-list").innerHTML = ordered.map(([key, g]) => `<div class="decision-group" data-problem="${key}"><strong>${key ? esc(g.title ?? `Problématique n° ${key}`) : "Autres points"}</strong>`
    + `<ul>${g.list.map((d) => `<li><span class="badge">${esc(d.kind_label)}</span> ${esc(d.text)}</li>`).join("")}</ul></div>`).join("")
    || '<p class="hint">Aucune décision enregistrée.</p>';
}

function fillDecisionForm() {
  const options = [...problems].sort(([, a], [, b]) => a.title.localeCompare(b.title)).map(([id, p]) => new Option(p.title, id));
  $("d-problem").replaceChildren(new Option("— aucune (note générale) —", ""), ...options);
  if (options.length) $("d-problem").value = options[0].value;
  $("d-action-type").replaceChildren(...Object.entries(taxonomy.action_types).map(([c, l]) => new Option(l, c)));
  // The lead partner: one of the GPO's partners (the API refuses another).
  const members = partners.filter((p) => gpo.partner_ids.includes(p.id));
  $("d-lead").replaceChildren(new Option("— sans pilote —", ""), ...members.map((p) => new Option(`${p.organisation} (${p.type_label})`, p.id)));
  $("d-outcome").replaceChildren(...Object.entries(taxonomy.outcomes).map(([c, l]) => new Option(l, c)));
  showSteps();
  showKindFields();
}

function showSteps() {
  const status = problems.get(Number($("d-problem").value))?.status;
  const next = status ? taxonomy.transitions[status] ?? [] : [];
  $("d-step").replaceChildren(...next.map((s) => new Option(taxonomy.statuses[s] ?? s, s)));
}

function showKindFields() {
  const kind = $("d-kind").value;
  for (const div of document.querySelectorAll(".kind-fields")) div.hidden = div.dataset.kind !== kind;
}

const DECISION_REFUSED = "Décision non enregistrée";

async function addDecision(event) {
  event.preventDefault();
  const form = $("decision-form");
  clearErrors($("decision-error"));
  clearRefusal(form);
  const refuse = (field, label, msg) => showGpoRefusal(form, refusedField(field, label, msg), $("decision-error"), DECISION_REFUSED);
  const kind = $("d-kind").value;
  const problemId = Number($("d-problem").value) || null;
  const text = $("d-text").value.trim() || null;
  if (kind !== "note" && !problemId) { refuse("problem_id", "Problématique", "choisissez celle que la décision concerne"); return; }
  if (kind === "note" && !text) { refuse("text", "Texte", "écrivez la note"); return; }
  if (kind === "step" && !$("d-step").value) { refuse("status", "Étape", "cette problématique n'a pas d'étape suivante"); return; }
  const body = { kind, problem_id: problemId, text };
  if (kind === "action") {
    body.action = { type: $("d-action-type").value, lead_partner_id: Number($("d-lead").value) || null, due_on: $("d-due").value || null, note: text };
  } else if (kind === "step") {
    body.step = { status: $("d-step").value, note: text };
  } else if (kind === "evaluation") {
    body.evaluation = { outcome: $("d-outcome").value, note: text };
  }
  try {
    meeting = await postJSON(`/api/meetings/${MEETING_ID}/decisions`, body);
    if (kind === "step" && problems.has(problemId)) problems.get(problemId).status = body.step.status;
    $("d-text").value = "";
    $("d-due").value = "";
    showDecisions();
    showSteps();
  } catch (e) {
    showGpoRefusal(form, e, $("decision-error"), DECISION_REFUSED);
  }
}

async function patchMeeting(body, form, errorBox, doneBox, done) {
  clearErrors(errorBox, doneBox);
  clearRefusal(form);
  try {
    meeting = await sendJSON("PATCH", `/api/meetings/${MEETING_ID}`, { ...body, version: meeting.version });
    doneBox.textContent = done;
  } catch (e) {
    showGpoRefusal(form, e, errorBox, "Enregistrement refusé");
  }
}

function saveAttendance(event) {
  event.preventDefault();
  const attendance = [...$("attendance-table").querySelectorAll("tbody tr[data-partner]")].map((tr) => ({
    partner_id: Number(tr.dataset.partner),
    present: tr.querySelector(".present").checked,
    represented_by: tr.querySelector(".represented").value.trim() || null,
  }));
  const attendees = $("attendees").value.split("\n").map((s) => s.trim()).filter(Boolean);
  return patchMeeting({ attendance, attendees }, $("attendance-form"), $("attendance-error"), $("attendance-done"),
    "Présences enregistrées.");
}

function saveMinutes(event) {
  event.preventDefault();
  return patchMeeting({ notes: $("notes").value.trim() || null }, $("minutes-form"), $("minutes-error"), $("minutes-done"),
    "Compte rendu enregistré.");
}

async function closeMeeting() {
  clearErrors($("close-error"));
  if (!confirm("Clôturer la réunion ? Les présences et les décisions seront figées et le compte rendu PDF produit.")) return;
  $("close-meeting").disabled = true;
  try {
    meeting = await postJSON(`/api/meetings/${MEETING_ID}/close`, { version: meeting.version });
    showHeader();
    showAttendance();
    $("closed-box").scrollIntoView();
  } catch (e) {
    $("close-error").textContent = e.status === 409 ? CONFLICT : (e.detail ?? e.message);
  } finally {
    $("close-meeting").disabled = false;
  }
}

// Send the invitation again (each invited partner, with its .ics), or cancel the meeting
// (the invited are told).
async function resendInvitations() {
  clearErrors($("close-error"), $("close-done"));
  try {
    meeting = await postJSON(`/api/meetings/${MEETING_ID}/invitations`);
    showHeader();
    $("close-done").textContent = "Invitations envoyées.";
  } catch (e) {
    $("close-error").textContent = e.status === 409 ? CONFLICT : (e.detail ?? e.message);
  }
}

async function cancelMeeting() {
  clearErrors($("close-error"), $("close-done"));
  if (!confirm("Annuler la réunion ? Les partenaires invités en sont avertis.")) return;
  try {
    meeting = await postJSON(`/api/meetings/${MEETING_ID}/cancel`, { version: meeting.version });
    showHeader();
    showAttendance();
  } catch (e) {
    $("close-error").textContent = e.status === 409 ? CONFLICT : (e.detail ?? e.message);
  }
}

try {
  [meeting, taxonomy] = await Promise.all([getJSON(`/api/meetings/${MEETING_ID}`), getJSON("/api/taxonomy")]);
  gpo = await getJSON(`/api/gpos/${meeting.gpo_id}`);
  showHeader();
  showAttendance();
  showDecisions();
  await Promise.all([showAgenda(), showHotspotTrends()]);
  if (writable()) {
    partners = (await getJSON(`/api/csp/${gpo.csp_id}/partners`)).data;
    await loadProblems();
    fillDecisionForm();
  }
  $("d-kind").addEventListener("change", showKindFields);
  $("d-problem").addEventListener("change", showSteps);
  $("decision-form").addEventListener("submit", addDecision);
  $("attendance-form").addEventListener("submit", saveAttendance);
  $("minutes-form").addEventListener("submit", saveMinutes);
  $("close-meeting").addEventListener("click", closeMeeting);
  $("resend-invitations").addEventListener("click", resendInvitations);
  $("cancel-meeting").addEventListener("click", cancelMeeting);
} catch (e) {
  $("error").textContent = `Réunion indisponible : ${e.detail ?? e.message}`;
} finally {
  document.body.dataset.ready = "true";
}
