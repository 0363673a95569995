"""Geocoding an address typed by a user into a position, behind one interface.

:class:`Geocoder` is what the app calls. The offline implementation searches a local
address table in the format of the Base Adresse Nationale (BAN) CSV export
(``numero``, ``rep``, ``nom_voie``, ``code_postal``, ``code_insee``, ``nom_commune``,
``lon``, ``lat``; ``;``-separated): the query and the addresses are normalised (case,
accents, common abbreviations), candidates must contain every word of the street, and
they are ranked by :func:`score` (street words, house number, commune or postcode).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import shapely

from geo.errors import ConflictError, InvalidInputError
from geo.geometry import outside_territory
from geo.problem_files import RowError, RowErrorsError

BAN_COLUMNS = ("numero", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat")
#: The longest value each BAN column may hold (the address table's columns).
BAN_LIMITS = {"numero": 20, "nom_voie": 200, "code_postal": 5, "code_insee": 5, "nom_commune": 200}
_CODE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
ABBREVIATIONS = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "r": "rue",
    "pl": "place",
    "fg": "faubourg",
    "fbg": "faubourg",
    "che": "chemin",
    "imp": "impasse",
    "rte": "route",
    "sq": "square",
    "st": "saint",
    "ste": "sainte",
    "all": "allee",
    "crs": "cours",
    "qu": "quai",
}
STOP_WORDS = frozenset(
    {"de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "et", "bis", "ter"}
)


@dataclass(frozen=True)
class GeocodeResult:
    label: str
    lon: float
    lat: float
    score: float  # 0 … 1
    citycode: str


class Geocoder(Protocol):
    def search(self, query: str, limit: int = 5) -> list[GeocodeResult]: ...


def normalize(text: str) -> str:
    """Lower case, no accents, no punctuation, abbreviations expanded.

    >>> normalize("12 Bd  Anatole-France, 90000 Belfort")
    '12 boulevard anatole france 90000 belfort'
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", text)
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


@dataclass(frozen=True)
class Query:
    number: str | None
    words: tuple[str, ...]  # significant words (street, commune), no number nor postcode
    postcode: str | None


def parse_query(text: str) -> Query:
    """The house number, the significant words and the postcode of a typed address.

    >>> parse_query("12 bis rue de la Paix 90000 Belfort")
    Query(number='12', words=('rue', 'paix', 'belfort'), postcode='90000')
    """
    words = normalize(text).split()
    postcode = next((w for w in words if re.fullmatch(r"\d{5}", w)), None)
    number = next((w for w in words if re.fullmatch(r"\d{1,4}", w)), None)
    rest = tuple(w for w in words if w not in (postcode, number) and w not in STOP_WORDS)
    return Query(number=number, words=rest, postcode=postcode)


def score(query: Query, street: str, city: str, number: str, postcode: str) -> float:
    """How well an address (normalised ``street`` and ``city``) answers a query, 0 to 1:

    * 0.4 times the share of the query's street words (those that are not the commune's
      name) found in the street name;
    * 0.3 times the share of the street name's significant words the query has (a query
      "rue de Belfort" prefers the rue de Belfort to a rue of Belfort);
    * 0.2 if the house number is the one asked;
    * 0.1 if the postcode or the commune named is the address's.
    """
    city_words = set(city.split())
    street_words = {w for w in street.split() if w not in STOP_WORDS}
    asked = [w for w in query.words if w not in city_words]
    recall = sum(w in street_words for w in asked) / len(asked) if asked else 0.0
    precision = len(street_words & set(query.words)) / len(street_words) if street_words else 0.0
    same_number = 1.0 if query.number is not None and query.number == number else 0.0
    named_city = bool(city_words) and city_words <= set(query.words)
    place = 1.0 if query.postcode == postcode or named_city else 0.0
    return round(0.4 * recall + 0.3 * precision + 0.2 * same_number + 0.1 * place, 4)


def read_ban_csv(path: Path) -> pd.DataFrame:
    """A BAN-format address CSV as a table (``number``, ``street``, ``postcode``,
    ``citycode``, ``city``, ``label``, ``search``, ``lon``, ``lat``); raises naming the
    missing columns or the first bad row."""
    try:
        table = pd.read_csv(
            path, sep=None, engine="python", dtype=str, keep_default_na=False,
            encoding="utf-8", skip_blank_lines=True,
        )  # fmt: skip
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError, csv.Error) as e:
        raise InvalidInputError(
            f"{path.name}: not a readable BAN CSV (UTF-8 text, one header line, columns "
            f"{', '.join(BAN_COLUMNS)}): {type(e).__name__}"
        ) from None
    if table.empty:
        raise InvalidInputError(f"{path.name}: no address in the file")
    missing = [c for c in BAN_COLUMNS if c not in table.columns]
    if missing:
        raise InvalidInputError(
            f"{path.name}: missing BAN column(s) {', '.join(missing)}; found "
            f"{', '.join(table.columns)}"
        )
    for column, limit in BAN_LIMITS.items():
        long = table[column].str.strip().str.len() > limit
        if long.any():
            row = int(long.to_numpy().nonzero()[0][0])
            raise InvalidInputError(
                f"{path.name}: row {row + 1}: {column} longer than {limit} characters"
            )
    bad_code = ~table["code_insee"].str.strip().str.match(_CODE)
    if bad_code.any():
        row = int(bad_code.to_numpy().nonzero()[0][0])
        raise InvalidInputError(
            f"{path.name}: row {row + 1}: code_insee {table['code_insee'].iloc[row]!r} is not "
            "an INSEE commune code"
        )
    lon = pd.to_numeric(table["lon"], errors="coerce")
    lat = pd.to_numeric(table["lat"], errors="coerce")
    bad = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InvalidInputError(
            f"{path.name}: row {row + 1}: lon/lat {table['lon'].iloc[row]!r}, "
            f"{table['lat'].iloc[row]!r} are not WGS84 coordinates"
        )
    rep = table["rep"] if "rep" in table.columns else ""
    number = (table["numero"].str.strip() + " " + rep).str.strip()
    label = (
        number + " " + table["nom_voie"].str.strip() + " " + table["code_postal"].str.strip()
        + " " + table["nom_commune"].str.strip()
    ).str.replace(r"\s+", " ", regex=True).str.strip()  # fmt: skip
    if (label.str.len() > 300).any():
        row = int((label.str.len() > 300).to_numpy().nonzero()[0][0])
        raise InvalidInputError(f"{path.name}: row {row + 1}: the address is over 300 characters")
    return pd.DataFrame(
        {
            "number": table["numero"].str.strip(),
            "street": table["nom_voie"].str.strip(),
            "postcode": table["code_postal"].str.strip(),
            "citycode": table["code_insee"].str.strip(),
            "city": table["nom_commune"].str.strip(),
            "label": label,
            "search": (table["nom_voie"] + " " + table["nom_commune"]).map(normalize),
            "lon": lon,
            "lat": lat,
        }
    )


#: How far (metres) an address may lie outside every commune's outline and still be
#: taken: the BAN places some entrances a few metres past a commune's drawn border.
ADDRESS_TOLERANCE_M = 50.0


class AddressesOutsideError(RowErrorsError):
    """Addresses that lie outside the territory (the communes of the database)."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        super().__init__(errors, total)
        first = errors[0]
        self.args = (
            f"lon/lat : {len(errors)} adresse(s) sur {total} hors du territoire (les communes "
            f"de la base, à {ADDRESS_TOLERANCE_M:g} m près) ; rien n'a été importé ; première : "
            f"ligne {first.row + 1} du fichier — {first.reason}",
        )


def check_addresses_inside(
    table: pd.DataFrame, territory: shapely.Geometry, *, tolerance_m: float = ADDRESS_TOLERANCE_M
) -> None:
    """Refuse (:class:`AddressesOutsideError`, listing every one by its row: line ``row +
    1`` of the file, whose header is line 1) the addresses of ``table`` (columns ``lon``,
    ``lat``, WGS84) that lie farther than ``tolerance_m`` from ``territory``.

    >>> table = pd.DataFrame({"lon": [6.85, 2.35], "lat": [47.65, 48.85]})
    >>> check_addresses_inside(table, shapely.box(6.8, 47.6, 6.9, 47.7))
    Traceback (most recent call last):
    ...
    geo.geocoding.AddressesOutsideError: lon/lat : 1 adresse(s) sur 2 hors du territoire \
(les communes de la base, à 50 m près) ; rien n'a été importé ; première : ligne 3 du fichier \
— [2.35, 48.85] (lon, lat) hors du territoire
    """
    points = shapely.points(table[["lon", "lat"]].to_numpy(dtype=float))
    outside = outside_territory(
        np.asarray(points, dtype=object),
        territory,
        territory_name="the territory",
        tolerance_m=tolerance_m,
    )
    if not outside:
        return
    errors = [
        RowError(
            i + 1,
            "lon/lat",
            f"[{float(table['lon'].iloc[i]):g}, {float(table['lat'].iloc[i]):g}] (lon, lat) "
            "hors du territoire"
            + (" — latitude et longitude inversées ?" if "swapped" in said else ""),
        )
        for i, said in sorted(outside.items())
    ]
    raise AddressesOutsideError(errors, len(table))


class AddressesReplaceError(ConflictError):
    """An import would replace the addresses of communes that have some, unconfirmed."""

    def __init__(self, existing: dict[str, int]) -> None:
        self.existing = dict(sorted(existing.items()))
        listed = ", ".join(f"{code} ({n})" for code, n in list(self.existing.items())[:20])
        more = f" … (+{len(self.existing) - 20})" if len(self.existing) > 20 else ""
        super().__init__(
            f"replace : l'import remplacerait {sum(self.existing.values())} adresse(s) déjà "
            f"chargée(s) des communes {listed}{more} ; confirmez avec replace=true "
            "(psq import-addresses --remplacer)"
        )

    @property
    def payload(self) -> dict[str, object]:
        return {"existing": self.existing}
