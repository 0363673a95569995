"""Massy, the base map's test territory (tests/fixtures): its communes, and the Web
Mercator tile holding a point."""

from __future__ import annotations

import math
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from api.services.context import Context
from api.services.territory import import_territory
from geo.territory import read_communes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point (the Web Mercator tiling's own formula)."""
    n = 2**z
    phi = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(phi)) / math.pi) / 2 * n)


def import_massy(factory: sessionmaker[Session]) -> int:
    """Massy and three neighbours as a CSP (no layer yet); its id."""
    return import_territory(
        Context(factory),
        layer=read_communes(FIXTURES / "communes_massy.geojson"),
        csp_name="Massy",
        csp_code="MASSY",
        commune_codes=["91377"],
    ).csp_id
