// Small client of the PSQ Secteurs JSON API. Errors carry the server's message.
export async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch { /* not JSON */ }
    throw new Error(`${response.status} — ${detail}`);
  }
  return response.json();
}

// Text from the data (commune names…) goes into HTML popups: escape it.
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const fmt = {
  int: new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 }),
  dec1: new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 }),
};
