// The notification outbox on the journal page (direction only): the e-mails queued, their
// state and their delivery attempts (GET /api/notifications), filtered by state.
import { esc, getJSON } from "./api.js";
import { $ } from "./ui.js";

const STATES = { pending: "en attente", sent: "envoyée", failed: "abandonnée" };
const when = (iso) => new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" });

function attempts(n) {
  if (!n.attempt_log.length) return n.status === "pending" ? `prochain essai ${when(n.next_attempt_at)}` : "—";
  return n.attempt_log.map((a) => `${when(a.at)} : ${a.outcome === "sent" ? "envoyée" : `échec (${esc(a.error ?? "")})`}`)
    .join("<br>");
}

async function show() {
  $("outbox-error").textContent = "";
  const params = new URLSearchParams({ limit: "50" });
  const status = $("o-status").value;
  if (status) params.set("status", status);
  const page = await getJSON(`/api/notifications?${params}`);
  $("outbox-table").querySelector("tbody").replaceChildren(...page.data.map((n) => {
    const tr = document.createElement("tr");
    tr.dataset.status = n.status;
    tr.innerHTML = `<td>${when(n.created_at)}</td><td>${esc(n.recipient)}</td>`
      + `<td>${esc(n.subject)}${n.attachment_name ? ` <span class="hint">(${esc(n.attachment_name)})</span>` : ""}</td>`
      + `<td>${STATES[n.status] ?? esc(n.status)}</td><td class="journal-changes">${attempts(n)}</td>`;
    return tr;
  }));
  $("outbox-count").textContent = page.total
    ? `${page.count} notification(s) affichée(s) sur ${page.total}.`
    : "Aucune notification.";
}

const run = () => show().catch((e) => { $("outbox-error").textContent = `Notifications indisponibles : ${e.detail ?? e.message}`; });
$("outbox-form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
run().finally(() => { document.body.dataset.outboxReady = "true"; });
