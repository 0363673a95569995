// Mes actions: the actions the caller's organisation leads across its GPOs (GET
// /api/actions?mine=true; a chef: its GPOs' actions), by urgency, each with its dated and
// signed steps; « Démarrer », « Marquer réalisée », « Abandonner », « Reporter l'échéance »,
// « Commenter » send one step (PATCH /api/actions/{id}, with the version read).
import { day, esc, getJSON, sendJSON } from "./api.js";
import { $ } from "./ui.js";
import { clearRefusal } from "./forms.js";
import { daysUntil, refusedField, showGpoRefusal } from "./gpo_common.js";

const FINISHED = new Set(["realisee", "abandonnee"]);
const ACTION_CONFLICT = "Quelqu'un a modifié cette action entre-temps : rechargez la page.";
const DONE_UNFOLDED = 20;
let me = null;
let shownOnce = false;

function groupOf(a) {
  if (FINISHED.has(a.status)) return "done";
  if (a.overdue) return "late";
  if (a.due_on && daysUntil(a.due_on) <= 15) return "soon";
  return "other";
}

// A partner's list (mine=true) holds only the actions its organisation leads, which it may
// update; a chef updates its GPOs' actions.

function history(a) {
  return a.events.map((e) => {
    const parts = [e.status_label ? `<strong>${esc(e.status_label)}</strong>` : "", e.due_on ? `échéance portée au ${day(e.due_on)}` : "", e.comment ? `« ${esc(e.comment)} »` : ""].filter(Boolean);
    return `<li>${day(e.on)} — ${parts.join(" · ") || "étape"} <span class="signed">— signé ${esc(e.signed_by)}</span></li>`;
  }).join("");
}

function card(a) {
  const div = document.createElement("article");
  div.className = `action-card${a.overdue ? " overdue" : ""}`;
  div.dataset.action = a.id;
  const gpo = a.gpo_id ? `<a href="/gpo/${a.gpo_id}">${esc(a.gpo_name)}</a>` : "sans GPO";
  div.innerHTML = `<h3>${esc(a.type_label)} — <a href="/problematiques?problem=${a.problem_id}">${esc(a.problem_title)}</a></h3>`
    + `<p class="hint">${gpo} · ${a.lead_partner ? `pilote : ${esc(a.lead_partner)}` : "sans pilote"} · échéance <span class="due">${day(a.due_on)}</span>${a.overdue ? ' <strong class="overdue">en retard</strong>' : ""}`
    + ` · statut : <span class="action-state">${esc(a.status_label)}</span></p>`
    + (a.note ? `<p>${esc(a.note)}</p>` : "")
    + `<ul class="history">${history(a) || "<li>aucune étape</li>"}</ul>`;
  div.append(controls(a));
  return div;
}

function controls(a) {
  const box = document.createElement("div");
  box.className = "controls";
  const finished = FINISHED.has(a.status);
  box.innerHTML = `<label>Commentaire<textarea class="comment" name="comment" rows="2" maxlength="2000" aria-label="Commentaire"></textarea></label>`
    + (finished ? "" : `<label>Nouvelle échéance<input type="date" class="new-due" name="due_on" aria-label="Nouvelle échéance"></label>`)
    + (a.status === "prevue" ? '<button type="button" data-do="start">Démarrer</button>' : "")
    // prévue → en cours → réalisée | abandonnée (geo.problems.ACTION_TRANSITIONS).
    + (a.status === "en_cours" ? '<button type="button" data-do="done">Marquer réalisée</button>' : "")
    + (finished ? "" : '<button type="button" data-do="drop">Abandonner</button><button type="button" data-do="postpone">Reporter l\'échéance</button>')
    + '<button type="button" data-do="comment">Commenter</button>'
    + '<p class="error-text" role="alert"></p>';
  const error = box.querySelector(".error-text");
  box.addEventListener("click", async (event) => {
    const what = event.target.dataset?.do;
    if (!what) return;
    error.textContent = $("saved").textContent = "";
    clearRefusal(box);
    const refuse = (field, label, msg) => showGpoRefusal(box, refusedField(field, label, msg), error, "Refusé", ACTION_CONFLICT);
    const comment = box.querySelector(".comment").value.trim() || null;
    const body = { comment, version: a.version };
    if (what === "start") body.status = "en_cours";
    if (what === "done") body.status = "realisee";
    if (what === "drop") {
      if (!confirm("Abandonner cette action ?")) return;
      body.status = "abandonnee";
    }
    if (what === "postpone") {
      body.due_on = box.querySelector(".new-due").value || null;
      if (!body.due_on) { refuse("due_on", "Nouvelle échéance", "choisissez une date"); return; }
    }
    if (what === "comment" && !comment) { refuse("comment", "Commentaire", "écrivez-le"); return; }
    try {
      await sendJSON("PATCH", `/api/actions/${a.id}`, body);
      await show();
      // The card may have moved (to « Terminées », folded): say what was done.
      const done = {
        start: "démarrée",
        done: "marquée réalisée : elle est rangée dans « Terminées »",
        drop: "abandonnée : elle est rangée dans « Terminées »",
        postpone: `reportée au ${day(body.due_on)}`,
        comment: "commentée",
      }[what];
      $("saved").textContent = `Action « ${a.type_label} » (${a.problem_title}) ${done}.`;
    } catch (e) {
      showGpoRefusal(box, e, error, "Refusé", ACTION_CONFLICT);
    }
  });
  return box;
}

async function show() {
  const actions = (await getJSON("/api/actions?mine=true&limit=2000")).data;
  const groups = { late: [], soon: [], other: [], done: [] };
  for (const a of actions) groups[groupOf(a)].push(a);
  for (const [name, list] of Object.entries(groups)) {
    list.sort((x, y) => (x.due_on ?? "9999").localeCompare(y.due_on ?? "9999"));
    const section = $(`group-${name}`);
    section.querySelector(".count").textContent = `(${list.length})`;
    section.querySelector(".cards").replaceChildren(...list.map(card));
    if (!list.length) section.querySelector(".cards").innerHTML = '<p class="hint">Aucune.</p>';
  }
  // The finished actions folded when they are many (a chef's GPOs' whole history).
  if (!shownOnce) $("done-details").open = groups.done.length <= DONE_UNFOLDED;
  shownOnce = true;
}

try {
  me = await getJSON("/api/me");
  if (me.role === "chef") $("actions-intro").textContent = "Les actions des problématiques de vos GPO. Chaque étape est datée et signée de votre nom.";
  await show();
} catch (e) {
  $("error").textContent = `Actions indisponibles : ${e.detail ?? e.message}`;
} finally {
  document.body.dataset.ready = "true";
}
