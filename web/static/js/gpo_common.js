// What the GPO pages share (gpo.js, gpo_workspace.js, meeting.js, my_actions.js): the
// French labels of cadences and states, errors shown next to their field, the 409 message.
import { esc, today } from "./api.js";
import { clearRefusal, showRefusal } from "./forms.js";

export const cadenceLabel = (days) => (days === 15 ? "tous les 15 jours" : days === 30 ? "mensuelle" : `tous les ${days} jours`);

export const stateBadge = (gpo) => (gpo.overdue
  ? '<span class="badge late">En retard</span>'
  : '<span class="badge ok">À jour</span>');

export const CONFLICT = "Quelqu'un a modifié cette réunion entre-temps : rechargez la page.";

// A refused GPO form (`scope`): a stale version says that someone changed the record
// meanwhile (`conflict`); any other refusal (a state that forbids it too) goes through
// forms.js (each field's message under its input, `prefix : sentence` in `summary`).
export function showGpoRefusal(scope, e, summary, prefix, conflict = CONFLICT) {
  if (e.code === "stale_version") {
    clearRefusal(scope);
    summary.textContent = conflict;
    return;
  }
  showRefusal(scope, e, summary, prefix);
}

// A refusal found before sending, said as the API says one (forms.js places it).
export const refusedField = (field, label, msg) => ({ message: `${label} : ${msg}`, fields: [{ field, label, msg }] });

export const clearErrors = (...els) => els.forEach((el) => { if (el) el.textContent = ""; });

// A partner as a line of text: « Organisation (type) — contact ».
export const partnerText = (p) => `${esc(p.organisation)} <span class="hint">(${esc(p.type_label)})</span>`;

// Whole days from today (local) to an ISO date.
export function daysUntil(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  const now = today();
  return Math.round((Date.UTC(y, m - 1, d) - Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())) / 86_400_000);
}
