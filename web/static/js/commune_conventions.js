// Espace commune, its conventions de participation citoyenne (issue 18): each with its
// computed status, current three-year term, tacit renewals, signatories and référents;
// for the roles that may (can("convention_write")) a new one, a change (the quartier
// redrawn on the map or the whole commune, signatories and dates, référents) and
// « Dénoncer ». A quartier may be drawn in several parts (a MultiPolygon): all its parts
// are loaded into the editor, « Ajouter une partie » draws one more, and all are saved;
// (a date, a French confirmation). A change made meanwhile by someone else
// (409, the version read is stale) is said in French and the list reloaded.
import { day, esc, isoDay, postJSON, sendJSON, getJSON } from "./api.js";
import { $, can } from "./ui.js";
import { clearRefusal, showRefusal } from "./forms.js";

export const COVERED_STYLE = { color: "#2a9d8f", weight: 2, dashArray: "6 4", fillOpacity: 0.08 };
const WRITES = can("convention_write");
const SIGNATORIES = [["prefet", "conv-prefet"], ["maire", "conv-maire"], ["chef_csp", "conv-chef"]];
const STALE = "Cette convention a été modifiée entre-temps par quelqu'un d'autre : la liste est rechargée, refaites votre modification.";

let conventions = [];
let editing = null;     // the convention being changed (null: a new one)
let denouncing = null;  // the convention being denounced
let reload = async () => {};

export async function showConventions(code) {
  conventions = (await getJSON(`/api/conventions?commune=${code}`)).data;
  $("conv-status").textContent = "";
  $("dash-conventions").innerHTML = conventions.map((c) => {
    const term = c.current_term ? `période en cours du ${day(c.current_term[0])} au ${day(c.current_term[1])}` : "";
    const signed = c.signatories.map((s) => `${esc(s.name)} (${s.signed_on ? `signé le ${day(s.signed_on)}` : "non signé"})`).join(", ");
    const buttons = WRITES && c.status !== "echue"
      ? `<span class="item-actions"><button type="button" class="conv-edit" data-id="${c.id}">Modifier</button>` +
        (c.status === "denoncee" || c.status === "en_projet" ? "" : `<button type="button" class="conv-denounce" data-id="${c.id}">Dénoncer</button>`) + "</span>"
      : "";
    return `<li data-id="${c.id}" data-status="${c.status}"><strong>${esc(c.quartier)}</strong> — ${esc(c.status_label)}` +
      `${c.next_renewal_on ? ` · reconduction tacite le ${day(c.next_renewal_on)}` : ""}` +
      `${c.ends_on ? ` · fin le ${day(c.ends_on)}` : ""} · ${c.referents.length} référent(s)` +
      `${c.synthetic ? " <em>(fictive)</em>" : ""}` +
      `<br><span class="hint">${term}${term && c.renewals ? " · " : ""}${c.renewals ? `${c.renewals} reconduction(s) tacite(s)` : ""}` +
      `${c.denounced_on ? ` · dénoncée le ${day(c.denounced_on)}` : ""}${signed ? `<br>Signataires : ${signed}` : ""}</span>${buttons}</li>`;
  }).join("") || "<li class=\"hint\">Aucune convention de participation citoyenne.</li>";
}

// -- the editor: a new convention, or a change ----------------------------------------------
export function initConventions(map, layer, currentCode, refresh) {
  reload = refresh;
  if (!WRITES) return;
  let drawing = false;
  // The quartier's parts, each a polygon's rings of LatLngs (its outline, then its holes);
  // a click adds a vertex to the outline of the last part.
  let parts = [];
  let redrawn = false;
  const vertexCount = () => parts.reduce((n, rings) => n + rings[0].length, 0);
  const redraw = () => {
    layer.clearLayers();
    const drawn = parts.filter((rings) => rings[0].length);
    if (drawn.length) L.polygon(drawn, COVERED_STYLE).addTo(layer);
  };
  const setDrawing = (on) => {
    drawing = on;
    $("conv-draw").setAttribute("aria-pressed", on);
    map.getContainer().style.cursor = on ? "crosshair" : "";
  };
  const close = () => {
    $("convention-editor").hidden = true;
    parts = []; redraw(); setDrawing(false);
  };
  const open = (c) => {
    editing = c;
    $("denounce-box").hidden = true;
    $("convention-form").reset();
    clearRefusal($("convention-form"));
    $("conv-result").textContent = "";
    $("convention-editor-title").textContent = c ? `Modifier la convention n° ${c.id}` : "Nouvelle convention";
    parts = []; redrawn = false; setDrawing(false);
    if (c) {
      $("conv-quartier").value = c.quartier;
      $("conv-whole").checked = c.whole_commune;
      $("conv-start").value = c.start_on ?? "";
      $("conv-end").value = c.end_on ?? "";
      $("conv-note").value = c.note ?? "";
      for (const [role, id] of SIGNATORIES) {
        const s = c.signatories.find((x) => x.role === role);
        if (s) { $(`${id}-name`).value = s.name; $(id).value = s.signed_on ?? ""; }
      }
      $("conv-referents").value = c.referents.map((r) => [r.name, r.phone, r.email, r.street].map((x) => x ?? "").join(" ; ").replace(/( ; )+$/, "")).join("\n");
      // every part of the quartier, each with its holes (GeoJSON rings repeat their first vertex)
      const g = c.quartier_geom;
      const polygons = !g ? [] : g.type === "Polygon" ? [g.coordinates] : g.coordinates;
      parts = polygons.map((rings) => rings.map((ring) => ring.slice(0, -1).map(([lng, lat]) => L.latLng(lat, lng))));
      redraw();
      $("conv-hint").textContent = c.whole_commune ? "Toute la commune." : `Quartier actuel en pointillés${parts.length > 1 ? ` (${parts.length} parties)` : ""} ; « Tracer le quartier » pour le redessiner, « Ajouter une partie » pour en tracer une de plus.`;
    }
    $("convention-editor").hidden = false;
    $("conv-quartier").focus();
  };
  map.on("click", (e) => {
    if (!drawing) return;
    if (!parts.length) parts.push([[]]);
    parts[parts.length - 1][0].push(e.latlng);
    redrawn = true;
    redraw();
    const count = parts.length > 1 ? `${parts.length} parties, ` : "";
    $("conv-hint").textContent = `${count}${vertexCount()} sommet(s) ; chaque partie se ferme d'elle-même.`;
  });
  $("convention-add").addEventListener("click", () => open(null));
  $("conv-cancel").addEventListener("click", close);
  $("conv-draw").addEventListener("click", () => { parts = []; redrawn = true; redraw(); setDrawing(!drawing); });
  $("conv-add-part").addEventListener("click", () => {
    // a part of fewer than three vertices is no polygon: the new one replaces it
    if (parts.length && parts[parts.length - 1][0].length < 3) parts.pop();
    parts.push([[]]);
    redrawn = true;
    setDrawing(true);
    $("conv-hint").textContent = `Partie n° ${parts.length} : cliquez ses sommets sur la carte.`;
  });
  $("conv-clear").addEventListener("click", () => { parts = []; redrawn = true; redraw(); setDrawing(false); });
  $("dash-conventions").addEventListener("click", (e) => {
    const id = Number(e.target.dataset.id);
    const c = conventions.find((x) => x.id === id);
    if (!c) return;
    if (e.target.classList.contains("conv-edit")) open(c);
    if (e.target.classList.contains("conv-denounce")) openDenounce(c);
  });
  $("convention-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = $("convention-form");
    clearRefusal(form);
    const whole = $("conv-whole").checked;
    // every part of at least three vertices, each ring closed; one part is a Polygon
    const closed = (ring) => { const xy = ring.map((v) => [Number(v.lng.toFixed(6)), Number(v.lat.toFixed(6))]); return [...xy, xy[0]]; };
    const polygons = parts.filter((rings) => rings[0].length >= 3).map((rings) => rings.filter((r) => r.length >= 3).map(closed));
    const geom = whole || !polygons.length ? null
      : polygons.length === 1 ? { type: "Polygon", coordinates: polygons[0] } : { type: "MultiPolygon", coordinates: polygons };
    const body = {
      quartier: $("conv-quartier").value.trim() || (whole ? "Toute la commune" : ""),
      whole_commune: whole,
      start_on: $("conv-start").value || null,
      end_on: $("conv-end").value || null,
      note: $("conv-note").value.trim() || null,
      signatories: SIGNATORIES.map(([role, id]) => ({ role, name: $(`${id}-name`).value.trim() || $(`${id}-name`).defaultValue, signed_on: $(id).value || null })),
      referents: $("conv-referents").value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
        const [name, phone, email, street] = l.split(";").map((x) => x.trim() || null);
        return { name, phone, email, street };
      }),
    };
    try {
      let saved;
      if (editing) {
        if (redrawn || whole !== editing.whole_commune) body.quartier_geom = geom;
        saved = await sendJSON("PATCH", `/api/conventions/${editing.id}`, { ...body, version: editing.version });
      } else {
        saved = await postJSON("/api/conventions", { ...body, commune_code: currentCode(), quartier_geom: geom });
      }
      close();
      await reload();
      $("conv-status").textContent = `Convention n° ${saved.id} ${editing ? "modifiée" : "enregistrée"} : ${saved.status_label.toLowerCase()}.`;
    } catch (err) {
      if (err.code === "stale_version") {
        close();
        await reload();
        $("conv-status").textContent = STALE;
        return;
      }
      showRefusal(form, err, $("conv-result"), "Convention non enregistrée");
    }
  });

  // -- « Dénoncer » ---------------------------------------------------------------------
  const openDenounce = (c) => {
    denouncing = c;
    close();
    $("denounce-title").textContent = `Dénoncer la convention « ${c.quartier} »`;
    $("denounce-form").reset();
    clearRefusal($("denounce-form"));
    $("denounce-result").textContent = "";
    $("denounce-on").value = isoDay();
    $("denounce-hint").textContent = c.current_term
      ? `Dénoncée, elle court jusqu'à la fin de sa période en cours, le ${day(c.current_term[1])}, puis prend fin.`
      : "";
    $("denounce-box").hidden = false;
  };
  $("denounce-cancel").addEventListener("click", () => { $("denounce-box").hidden = true; });
  $("denounce-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const c = denouncing;
    const on = $("denounce-on").value;
    if (!c || !window.confirm(`Dénoncer la convention « ${c.quartier} » le ${day(on)} ? Elle ne sera pas reconduite.`)) return;
    try {
      const saved = await postJSON(`/api/conventions/${c.id}/denounce`, {
        version: c.version, denounced_on: on || null, reason: $("denounce-reason").value.trim() || null,
      });
      $("denounce-box").hidden = true;
      await reload();
      $("conv-status").textContent = `Convention « ${saved.quartier} » dénoncée le ${day(saved.denounced_on)} : fin le ${day(saved.ends_on)}.`;
    } catch (err) {
      if (err.code === "stale_version") {
        $("denounce-box").hidden = true;
        await reload();
        $("conv-status").textContent = STALE;
        return;
      }
      showRefusal($("denounce-form"), err, $("denounce-result"), "Dénonciation refusée");
    }
  });
}
