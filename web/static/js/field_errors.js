// An API error shown next to the field it names: the API's French sentences start with the
// field (« quartier_geom : le quartier dessiné sort de la commune… », api/errors.py); `fields`
// maps those names to the ids of the form's inputs. What names no known field goes to
// `fallback` (an element id). The form's earlier messages are removed first.
import { $ } from "./ui.js";

export function clearFieldErrors(form) {
  form.querySelectorAll(".field-error").forEach((p) => p.remove());
}

export function showFieldError(form, error, fields, fallback) {
  clearFieldErrors(form);
  const detail = error.detail ?? error.message;
  // The refused field as the API names it (`fields[]`, api.js's error), else as the
  // sentence starts (« quartier_geom : … »).
  const named = (error.fields ?? []).find((f) => fields[f.field]);
  const name = named?.field ?? detail.match(/^([a-z_]+)(?:\.\d+)?(?:\.[a-z_]+)* ?:/)?.[1];
  const input = name && fields[name] ? $(fields[name]) : null;
  if (!input) {
    $(fallback).className = "error-text";
    $(fallback).textContent = detail;
    return;
  }
  const p = document.createElement("p");
  p.className = "field-error";
  p.setAttribute("role", "alert");
  p.dataset.field = name;
  p.textContent = named?.msg ?? detail.replace(/^[^:]+:\s*/, "");
  input.setAttribute("aria-invalid", "true");
  input.insertAdjacentElement("afterend", p);
  input.focus?.();
}
