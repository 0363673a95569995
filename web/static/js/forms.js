// Refusals said next to their fields, written once for every form. The API's error body
// (api/errors.py, ErrorPublic) names each refused field: `fields` [{field, label, msg}].
// showRefusal puts each message under its input (aria-describedby, aria-invalid), focuses
// the first refused input, and keeps the whole sentence in a summary next to the submit
// button. An input is found by its name (name="contact_email"), or by a data-field
// attribute listing the fields it stands for (the map's toolbar: data-field="site").

const escape = (value) => (globalThis.CSS?.escape ? CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&"));

function inputFor(scope, field) {
  const names = [String(field), String(field).split(".").pop()];
  for (const name of names) {
    const found = scope.querySelector(`[name="${escape(name)}"]`) ?? scope.querySelector(`[data-field~="${escape(name)}"]:not(.field-error)`);
    if (found) return found;
  }
  return null;
}

// Remove the messages showRefusal put in `scope`, and what it marked.
export function clearRefusal(scope) {
  for (const note of scope.querySelectorAll(".field-error")) note.remove();
  for (const input of scope.querySelectorAll("[data-refused]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("data-refused");
    const base = input.dataset.describedbyBase;
    if (base) input.setAttribute("aria-describedby", base);
    else input.removeAttribute("aria-describedby");
    delete input.dataset.describedbyBase;
  }
}

// Say a refused submission: each field's message under its input, the first refused input
// focused, and `prefix : <the French sentence>` in `summary` (next to the submit button).
// `error` is what api.js throws (message, fields). Returns how many fields were placed.
export function showRefusal(scope, error, summary, prefix) {
  clearRefusal(scope);
  const placed = [];
  for (const f of error.fields ?? []) {
    const input = inputFor(scope, f.field);
    if (!input) continue;
    // A checkbox or radio sits inside its label: the message goes after the label; any
    // other input wrapped in its label takes the message right under it, in the label.
    const anchor = input.matches("[type=checkbox], [type=radio]") ? (input.closest("label") ?? input) : input;
    const note = document.createElement(anchor.parentElement?.closest("label") ? "span" : "p");
    note.className = "field-error error-text";
    note.id = `${input.id || String(f.field).replace(/\W/g, "-")}-error`;
    note.textContent = f.msg;
    note.dataset.field = f.field;
    anchor.after(note);
    if (!input.hasAttribute("data-refused")) {
      input.dataset.describedbyBase = input.getAttribute("aria-describedby") ?? "";
      input.setAttribute("data-refused", "");
    }
    input.setAttribute("aria-invalid", "true");
    const ids = (input.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
    input.setAttribute("aria-describedby", [...ids, note.id].join(" "));
    placed.push(input);
  }
  if (summary) {
    summary.classList.remove("ok-text");
    summary.classList.add("error-text");
    summary.textContent = prefix ? `${prefix} : ${error.message}` : error.message;
  }
  const first = placed[0];
  if (first) {
    const focusable = first.matches("input, select, textarea, button") ? first : first.querySelector("button, input, select, textarea");
    focusable?.focus();
  }
  return placed.length;
}
