// Activity report page: figures of the GPOs for a period and an area (all CSPs, one
// CSP or one sector), by category and per GPO, with CSV downloads.
import { esc, fmt, getJSON, isoDay, percent, today } from "./api.js";
import { $ } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

const days = (v) => (v == null ? "—" : `${fmt.dec1.format(v)} j`);

function params() {
  const p = new URLSearchParams({ from: $("report-from").value, to: $("report-to").value });
  if ($("report-csp").value) p.set("csp", $("report-csp").value);
  if ($("report-sector").value) p.set("sector", $("report-sector").value);
  return p;
}

async function loadSectors() {
  const csp = $("report-csp").value;
  const options = [new Option("Tous les secteurs", "")];
  if (csp) {
    const gpos = await getJSON(`/api/csp/${csp}/gpos`);
    for (const g of gpos.data.filter((g) => g.kind === "sector")) options.push(new Option(g.name.replace(/^GPO /, ""), g.sector));
  }
  $("report-sector").replaceChildren(...options);
  $("report-sector").disabled = options.length === 1;
}

async function show(event) {
  event?.preventDefault();
  $("report-error").textContent = "";
  clearRefusal($("report-form"));
  try {
    const r = await getJSON(`/api/reports?${params()}`);
    $("report-synthetic").hidden = r.synthetic_problems === 0;
    $("report-csv").href = `/api/reports?${params()}&format=csv`;
    $("report-gpo-csv").href = `/api/reports?${params()}&format=csv&table=gpos`;
    const figures = [
      ["Réunions de GPO tenues", fmt.int.format(r.meetings_held)],
      ["Problématiques ouvertes", fmt.int.format(r.problems_opened)],
      ["Problématiques résolues", fmt.int.format(r.problems_resolved)],
      ["Closes sans suite", fmt.int.format(r.problems_closed_without_action)],
      ["En cours à la fin", fmt.int.format(r.open_at_end)],
      ["Délai médian de résolution", days(r.median_days_to_resolution)],
      ...(r.sectors ? [["Résolues par secteur", fmt.dec1.format(r.problems_resolved / r.sectors)]] : []),
    ];
    $("report-figures").innerHTML = figures.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join("");
    $("report-table").tBodies[0].innerHTML = r.by_category.map((c) =>
      `<tr><th scope="row">${esc(c.label)}</th><td>${fmt.int.format(c.opened)}</td><td>${fmt.int.format(c.resolved)}</td><td>${days(c.median_days_to_resolution)}</td></tr>`).join("") ||
      '<tr><td colspan="4" class="hint">Aucune problématique sur la période.</td></tr>';
    $("report-gpos").tBodies[0].innerHTML = r.gpos.map((g) =>
      `<tr data-gpo="${g.gpo_id}"><th scope="row">${esc(g.name)}${g.active ? "" : " (sans territoire)"}</th>` +
      `<td>${fmt.int.format(g.meetings_held)}</td>` +
      `<td>${g.attendance_rate == null ? "—" : percent(g.attendance_rate)}</td>` +
      `<td>${fmt.int.format(g.problems_opened)}</td><td>${fmt.int.format(g.problems_resolved)}</td>` +
      `<td>${g.actions_realised ? `${fmt.int.format(g.actions_on_time)} sur ${fmt.int.format(g.actions_realised)}` : "—"}</td></tr>`).join("") ||
      '<tr><td colspan="6" class="hint">Aucun GPO dans cette zone.</td></tr>';
    document.body.dataset.ready = "true";
  } catch (e) {
    showRefusal($("report-form"), e, $("report-error"), "Bilan impossible");
  }
}

async function main() {
  const now = today();
  $("report-to").value = isoDay(now);
  $("report-from").value = isoDay(new Date(now.getTime() - 365 * 86400e3));
  const csps = await getJSON("/api/csp");
  $("report-csp").append(...csps.data.map((c) => new Option(c.name, c.id)));
  $("report-csp").addEventListener("change", () => loadSectors().then(show));
  $("report-form").addEventListener("submit", show);
  await loadSectors();
  await show();
}

main().catch((e) => { $("report-error").textContent = `Impossible de charger la page : ${e.message}`; });
