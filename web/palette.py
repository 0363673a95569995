"""Colours shared by the pages (read by their scripts from a meta tag of base.html) and the
printed sheets, so that a map on paper and on screen agree."""

from __future__ import annotations

SECTOR_COLOURS = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#17becf",
]
# One colour per problem category (geo.problems.CATEGORIES).
CATEGORY_COLOURS = {
    "stupefiants": "#b2182b",
    "rassemblements": "#ef8a62",
    "nuisances": "#8073ac",
    "rodeos": "#e08214",
    "alcoolisation": "#7f3b08",
    "stationnement": "#4393c3",
    "scolaire": "#1b7837",
    "cambriolages": "#2d004b",
    "campements": "#8c510a",
    "transports": "#01665e",
    "autre": "#777777",
}
# Getis-Ord Gi* levels (geo.hotspots.LEVEL_LABELS): reds for hot, blues for cold.
HOTSPOT_COLOURS = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    0: "#f7f7f7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}
# Heat bands, from the faintest to the peak.
HEAT_COLOURS = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
# Trends of hot spots between two periods (geo.hotspots.TRENDS).
TREND_COLOURS = {
    "new": "#d7191c",
    "intensifying": "#fdae61",
    "persistent": "#7b3294",
    "diminishing": "#2c7bb6",
}
# Steps of a safety-study request (geo.audits.STATUSES).
AUDIT_STATUS_COLOURS = {
    "demandee": "#6c757d",
    "acceptee": "#1a6399",
    "planifiee": "#a85a00",  # dark enough for white text (WCAG AA contrast)
    "realisee": "#6a3d9a",
    "preconisations_remises": "#1e7b34",
    "refusee": "#a61c1c",
}
# Sites suggested by the coverage (camera) analysis, and the fixed ones.
COVERAGE_COLOURS = {"suggested": "#6a1b9a", "fixed": "#555555", "requested": "#e08214"}
