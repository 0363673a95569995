// What the GPO pages share (gpo.js, gpo_workspace.js, meeting.js, my_actions.js): the
// French labels of cadences and states, errors shown next to their field, the 409 message.
import { esc, today } from "./api.js";

export const cadenceLabel = (days) => (days === 15 ? "tous les 15 jours" : days === 30 ? "mensuelle" : `tous les ${days} jours`);

export const stateBadge = (gpo) => (gpo.overdue
  ? '<span class="badge late">En retard</span>'
  : '<span class="badge ok">À jour</span>');

export const CONFLICT = "Quelqu'un a modifié cette réunion entre-temps : rechargez la page.";

// The field an API error names first ("due_on : …", "action.due_on : …"), or null.
export function errorField(e) {
  const match = /^([\w.]+)\s?:/.exec(e.detail ?? "");
  return match ? match[1] : null;
}

// Show an API error next to its field: `fields` maps a field name (its last dotted part
// too) to the element that takes its message; otherwise in `fallback`. A 409 says that
// someone changed the record meanwhile (`conflict`).
export function showFieldError(e, fields, fallback, conflict = CONFLICT) {
  for (const el of Object.values(fields)) if (el) el.textContent = "";
  if (e.status === 409) {
    fallback.textContent = conflict;
    return;
  }
  const field = errorField(e);
  const target = field && (fields[field] ?? fields[field.split(".").at(-1)]);
  (target ?? fallback).textContent = e.detail ?? e.message;
}

export const clearErrors = (...els) => els.forEach((el) => { if (el) el.textContent = ""; });

// A partner as a line of text: « Organisation (type) — contact ».
export const partnerText = (p) => `${esc(p.organisation)} <span class="hint">(${esc(p.type_label)})</span>`;

// Whole days from today (local) to an ISO date.
export function daysUntil(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  const now = today();
  return Math.round((Date.UTC(y, m - 1, d) - Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())) / 86_400_000);
}
