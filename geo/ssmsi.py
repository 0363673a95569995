"""The public SSMSI figures of recorded crime per département (shipped in ``data/ssmsi/``:
one ``ssmsi_delinquance_departement_XX_*.csv`` per département and ``source.toml`` saying
their source and vintage): the latest year of each indicator beside the year before."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

from geo.errors import InvalidInputError

COLUMNS = (
    "code_departement",
    "annee",
    "indicateur",
    "unite_de_compte",
    "nombre",
    "taux_pour_mille",
)


@dataclass(frozen=True)
class SsmsiFigure:
    """One indicator of a département: its latest year and the year before."""

    indicator: str
    unit: str
    year: int
    count: int
    rate_per_mille: float | None
    previous_count: int | None

    @property
    def change(self) -> float | None:
        """The change from the year before, as a fraction (None without it or from 0)."""
        if not self.previous_count:
            return None
        return (self.count - self.previous_count) / self.previous_count


@dataclass(frozen=True)
class SsmsiFigures:
    departement: str
    figures: list[SsmsiFigure]
    first_year: int | None
    source: str
    vintage: str
    licence: str
    note: str


def read_source(directory: Path) -> dict[str, str]:
    path = directory / "source.toml"
    if not path.is_file():
        return {"source": "SSMSI", "vintage": "", "licence": "", "note": ""}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: str(data.get(k, "")) for k in ("source", "vintage", "licence", "note")}


def departement_figures(directory: Path, departement: str) -> SsmsiFigures:
    """The figures of ``departement`` from the CSV files of ``directory`` (none when no
    file holds it), the latest year of each indicator with the year before."""
    rows: dict[str, dict[int, tuple[str, int, float | None]]] = {}
    for path in sorted(directory.glob("ssmsi_delinquance_departement_*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = set(COLUMNS) - set(reader.fieldnames or [])
            if missing:
                raise InvalidInputError(
                    "file_columns_missing_named", name=path.name, missing=sorted(missing)
                )
            for r in reader:
                if r["code_departement"] != departement:
                    continue
                rate = r["taux_pour_mille"]
                rows.setdefault(r["indicateur"], {})[int(r["annee"])] = (
                    r["unite_de_compte"],
                    round(float(r["nombre"])),
                    float(rate) if rate not in ("", "NA") else None,
                )
    figures = []
    years: list[int] = []
    for indicator, by_year in sorted(rows.items()):
        year = max(by_year)
        years.extend(by_year)
        unit, count, rate = by_year[year]
        previous = by_year.get(year - 1)
        figures.append(
            SsmsiFigure(indicator, unit, year, count, rate, previous[1] if previous else None)
        )
    meta = read_source(directory)
    return SsmsiFigures(
        departement=departement,
        figures=figures,
        first_year=min(years) if years else None,
        **meta,
    )
