// Small client of the PSQ Secteurs JSON API. Errors carry the server's message.
// Writes carry the CSRF token of the session (the psq_csrf cookie) as X-CSRF-Token: the
// server refuses a write made with the session cookie without it.
export function csrfHeaders() {
  const match = document.cookie.match(/(?:^|;\s*)psq_csrf=([^;]*)/);
  return match ? { "X-CSRF-Token": decodeURIComponent(match[1]) } : {};
}

export async function getJSON(path) {
  return checked(await fetch(path, { headers: { Accept: "application/json" } }));
}

export async function sendJSON(method, path, body) {
  const init = { method, headers: { Accept: "application/json", ...csrfHeaders() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return checked(await fetch(path, init));
}

export const postJSON = (path, body) => sendJSON("POST", path, body);

// A multipart form (file uploads); the answer is JSON.
export async function postForm(path, form) {
  return checked(await fetch(path, { method: "POST", headers: { Accept: "application/json", ...csrfHeaders() }, body: form }));
}

// The same with the upload's progress (XMLHttpRequest: fetch cannot say how much of a
// body is sent): onProgress(fraction sent, 0 to 1) as the bytes go, onSent() once they
// are all sent and the server reads them; the answer and the errors are postForm's.
export function postFormWithProgress(path, form, { onProgress, onSent } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    for (const [name, value] of Object.entries(csrfHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable && e.total) onProgress?.(e.loaded / e.total); });
    xhr.upload.addEventListener("load", () => onSent?.());
    xhr.addEventListener("load", () => {
      const body = xhr.status === 204 ? null : xhr.responseText;
      checked(new Response(body, { status: xhr.status, statusText: xhr.statusText })).then(resolve, reject);
    });
    xhr.addEventListener("error", () => reject(new Error("envoi interrompu : le serveur n'a pas reçu le fichier en entier (trop gros ? connexion coupée ?)")));
    xhr.addEventListener("abort", () => reject(new Error("envoi annulé")));
    xhr.send(form);
  });
}

// What a refusal without the API's body (a proxy, a lost connection…) is said as.
const STATUS_MESSAGES = {
  400: "requête refusée", 401: "connexion requise : identifiez-vous", 403: "action non permise pour votre rôle",
  404: "introuvable", 409: "les données ont changé entre-temps : rechargez la page", 413: "envoi trop volumineux",
  422: "données refusées", 429: "trop de tentatives : réessayez plus tard",
};
const statusMessage = (status) => STATUS_MESSAGES[status] ?? (status >= 500 ? "le serveur n'a pas pu répondre : réessayez dans un instant" : "requête refusée");

// A refused request throws an Error whose message is the server's French sentence (never
// the HTTP status), with `status`, `code` (the catalogue's stable code) and `fields` (each
// refused field with its French message: forms.js puts them next to their inputs).
export async function refusal(response) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON */ }
  // The API's one error shape: a French sentence naming the field (api/errors.py).
  const detail = typeof body?.detail === "string" && body.detail ? body.detail : statusMessage(response.status);
  const error = new Error(detail);
  error.status = response.status;
  error.detail = detail;
  error.code = body?.code ?? body?.type ?? null;
  error.fields = Array.isArray(body?.fields) ? body.fields : [];
  return error;
}

async function checked(response) {
  if (!response.ok) throw await refusal(response);
  return response.status === 204 ? null : response.json();
}

// A plain French phrase with its technical term in a « ? » note (issue 23), written once:
// a <details> the mouse, the keyboard and screen readers open on demand. `term` and
// `meaning` are the app's own words (HTML).
export const explained = (text, term, meaning) =>
  `${text}<details class="term-note"><summary aria-label="Terme technique : ${esc(term.replace(/<[^>]*>/g, ""))}">?</summary>` +
  `<span><strong>${term}</strong> : ${meaning}</span></details>`;

// Text from the data (commune names…) goes into HTML popups: escape it.
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Dates travel as YYYY-MM-DD: shown in French as such whatever the browser's time zone;
// "—" when there is none.
export const day = (iso) => (iso ? new Date(`${iso}T00:00:00Z`).toLocaleDateString("fr-FR", { timeZone: "UTC" }) : "—");
// Today by the app's clock (the psq-today meta tag of base.html, which PSQ_TODAY may
// freeze), at local noon; the browser's own date on a page without it.
export const today = () => {
  const iso = document.querySelector('meta[name="psq-today"]')?.content;
  return iso ? new Date(`${iso}T12:00:00`) : new Date();
};
// A local date (default: today) as YYYY-MM-DD.
export const isoDay = (d = today()) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

export const fmt = {
  int: new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 }),
  dec1: new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 }),
  dec2: new Intl.NumberFormat("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  pct1: new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" }),
};
// A share as a French percentage with one decimal: 0.1234 → "12,3 %".
export const percent = (v) => `${fmt.dec1.format(100 * v)} %`;

// Fill a <select> with the CSPs (the one named by ?csp= in the URL chosen first) and call
// show(csp) now and on every change. Returns false when there is no CSP yet.
export async function bindCspSelect(select, show, onError) {
  const csps = await getJSON("/api/csp");
  if (!csps.count) return false;
  const wanted = Number(new URLSearchParams(location.search).get("csp"));
  const current = csps.data.find((c) => c.id === wanted) ?? csps.data[0];
  select.replaceChildren(...csps.data.map((c) => new Option(c.name, c.id, false, c.id === current.id)));
  select.addEventListener("change", (e) => {
    show(csps.data.find((c) => c.id === Number(e.target.value))).catch(onError);
  });
  await show(current);
  return true;
}

// Follow a background job (GET /api/jobs/{id}) until it ends, calling onProgress(job)
// every 300 ms meanwhile; resolves to the ended job (done, failed or cancelled).
export async function followJob(job, onProgress) {
  while (job.status === "queued" || job.status === "running" || job.status === "cancelling") {
    onProgress(job);
    await new Promise((r) => setTimeout(r, 300));
    job = await getJSON(`/api/jobs/${job.id}`);
  }
  return job;
}
