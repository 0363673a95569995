"""The accessibility check of the browser tests: axe-core (vendored in
``web/static/vendor/axe-core/``) run on the page as it stands, after the page's own
script has drawn it. A page may have no serious or critical violation of WCAG 2.1 A/AA."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

#: Where the app serves the vendored axe-core (a same-origin script: the CSP allows it).
AXE_URL = "/static/vendor/axe-core/axe.min.js"
#: The rule sets checked: WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: The impacts that fail a page.
BLOCKING = ("serious", "critical")
#: Seconds spent in axe by this test process (the report's figure).
SPENT = [0.0]


#: The pages (paths) already checked by this test process: :func:`serious_violations`
#: with ``once=True`` checks a page the first time a test opens it only.
CHECKED: set[str] = set()


def serious_violations(page: Any, *, once: bool = False) -> list[str]:
    """``rule (impact): selectors`` of each serious or critical violation on ``page``;
    nothing when ``once`` and a test of this process already checked its path. The map's
    panes (sector shapes, cells, markers: graphics that axe would walk one by one) are left
    out; its controls (zoom, layers, legends) are checked."""
    path = urlsplit(page.url).path
    if once and path in CHECKED:
        return []
    CHECKED.add(path)
    started = time.monotonic()
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_URL)
    found = page.evaluate(
        """async (tags) => {
            const context = { exclude: [[".leaflet-map-pane"]] };
            const result = await axe.run(context, {
                runOnly: { type: "tag", values: tags }, resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )
    SPENT[0] += time.monotonic() - started
    return [
        f"{page.url} {v['id']} ({v['impact']}): {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in BLOCKING
    ]
