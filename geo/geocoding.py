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
import gzip
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import shapely

from geo.errors import InvalidInputError
from geo.geometry import outside_territory
from geo.problem_files import MAX_ERRORS, RowError, RowErrorsError

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
    suffix: str | None = None  # « bis », « ter », « b »… after the number


#: What may follow a house number: « 12 bis », « 12 ter », « 12B », « 12 b ».
SUFFIXES = frozenset({"bis", "ter", "quater", "quinquies", *"abcdefgh"})
_NUMBER = re.compile(r"^(\d{1,4})([a-z]{0,9})$")


def split_number(text: str) -> tuple[str, str | None]:
    """A house number and its suffix, lower case (« 12B » → ``("12", "b")``).

    >>> split_number("12 bis"), split_number("7B"), split_number("3")
    (('12', 'bis'), ('7', 'b'), ('3', None))
    """
    compact = re.sub(r"\s+", "", text.strip().lower())
    match = _NUMBER.match(compact)
    if match is None:
        return text.strip(), None
    return match.group(1), match.group(2) or None


def parse_query(text: str) -> Query:
    """The house number, the significant words and the postcode of a typed address.

    >>> parse_query("12 bis rue de la Paix 90000 Belfort")
    Query(number='12', words=('rue', 'paix', 'belfort'), postcode='90000', suffix='bis')
    >>> parse_query("3b av Jean Jaurès").suffix
    'b'
    """
    words = normalize(text).split()
    postcode = next((w for w in words if re.fullmatch(r"\d{5}", w)), None)
    number = suffix = None
    taken: set[int] = set()
    for i, word in enumerate(words):
        match = _NUMBER.match(word)
        if word == postcode or match is None or (match.group(2) and match.group(2) not in SUFFIXES):
            continue
        number, suffix, taken = match.group(1), match.group(2) or None, {i}
        if suffix is None and i + 1 < len(words) and words[i + 1] in SUFFIXES:
            suffix = words[i + 1]
            taken.add(i + 1)
        break
    rest = tuple(
        w for i, w in enumerate(words) if i not in taken and w != postcode and w not in STOP_WORDS
    )
    return Query(number=number, words=rest, postcode=postcode, suffix=suffix)


def score(
    query: Query, street: str, city: str, number: str, postcode: str, suffix: str | None = None
) -> float:
    """How well an address (normalised ``street`` and ``city``) answers a query, 0 to 1:

    * 0.4 times the share of the query's street words (those that are not the commune's
      name) found in the street name;
    * 0.3 times the share of the street name's significant words the query has (a query
      "rue de Belfort" prefers the rue de Belfort to a rue of Belfort);
    * 0.15 if the house number is the one asked, 0.05 more if its suffix is too (« 12 »
      is not « 12 bis »);
    * 0.1 if the postcode or the commune named is the address's.

    The last word typed may be unfinished (suggestions as one types): it counts when a
    word of the street begins with it.
    """
    city_words = set(city.split())
    street_words = {w for w in street.split() if w not in STOP_WORDS}
    typed = list(query.words)
    if typed and typed[-1] not in street_words | city_words:
        # an unfinished last word: the street's (or commune's) word it begins
        completed = sorted(w for w in street_words | city_words if w.startswith(typed[-1]))
        if completed:
            typed[-1] = completed[0]
    asked = [w for w in typed if w not in city_words]
    recall = sum(w in street_words for w in asked) / len(asked) if asked else 0.0
    precision = len(street_words & set(typed)) / len(street_words) if street_words else 0.0
    same_number = query.number is not None and query.number == number
    same_suffix = same_number and (query.suffix or None) == (suffix or None)
    named_city = bool(city_words) and city_words <= set(typed)
    place = 1.0 if query.postcode == postcode or named_city else 0.0
    return round(
        0.4 * recall + 0.3 * precision + 0.15 * same_number + 0.05 * same_suffix + 0.1 * place, 4
    )


#: The columns of a BANO file (OpenStreetMap France's address base), which has no header.
BANO_COLUMNS = ("id", "numero", "voie", "code_post", "nom_comm", "source", "lat", "lon")


def _is_bano(path: Path) -> bool:
    """Whether a file looks like BANO: no header, its first field an INSEE code followed
    by a street code (``900010003F-1``), eight comma-separated fields."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            first = f.readline()
    except (UnicodeDecodeError, OSError, EOFError):
        return False
    fields = next(csv.reader([first]), [])
    return len(fields) == len(BANO_COLUMNS) and bool(_CODE.match(fields[0][:5]))


def _read_bano(path: Path) -> pd.DataFrame:
    """A BANO file as the BAN's columns (the INSEE code is the first five characters of
    ``id``)."""
    try:
        bano = pd.read_csv(
            path, header=None, names=list(BANO_COLUMNS), dtype=str, keep_default_na=False,
            encoding="utf-8", on_bad_lines="error",
        )  # fmt: skip
    except (UnicodeDecodeError, pd.errors.ParserError, csv.Error, ValueError) as e:
        raise InvalidInputError(
            "bano_unreadable", name=path.name, columns=BANO_COLUMNS, reason=type(e).__name__
        ) from None
    return pd.DataFrame(
        {
            "numero": bano["numero"],
            "nom_voie": bano["voie"],
            "code_postal": bano["code_post"],
            "code_insee": bano["id"].str[:5],
            "nom_commune": bano["nom_comm"],
            "lon": bano["lon"],
            "lat": bano["lat"],
        }
    )


def read_address_csv(path: Path) -> pd.DataFrame:
    """An address file as a table (``number``, ``suffix``, ``street``, ``postcode``,
    ``citycode``, ``city``, ``label``, ``search``, ``lon``, ``lat``); raises naming the
    missing columns or the first bad row. Two formats: the Base Adresse Nationale's CSV
    (``adresses-DD.csv``: one header line, ``;``-separated, :data:`BAN_COLUMNS` and an
    optional ``rep``) and BANO (no header, comma-separated, :data:`BANO_COLUMNS`)."""
    if _is_bano(path):
        table = _address_table(path, _read_bano(path))
        table.attrs["header_lines"] = 0  # the file's line of row 1 (its errors say it)
        return table
    try:
        table = pd.read_csv(
            path, sep=None, engine="python", dtype=str, keep_default_na=False,
            encoding="utf-8", skip_blank_lines=True,
        )  # fmt: skip
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError, csv.Error) as e:
        raise InvalidInputError(
            "ban_unreadable",
            name=path.name,
            columns=BAN_COLUMNS,
            bano_columns=BANO_COLUMNS,
            reason=type(e).__name__,
        ) from None
    return _address_table(path, table)


def _address_table(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        raise InvalidInputError("addresses_none", field="file", name=path.name)
    missing = [c for c in BAN_COLUMNS if c not in table.columns]
    if missing:
        raise InvalidInputError(
            "file_columns_expected",
            field="file",
            name=path.name,
            expected=missing,
            found=[str(c) for c in table.columns],
        )
    for column, limit in BAN_LIMITS.items():
        long = table[column].str.strip().str.len() > limit
        if long.any():
            row = int(long.to_numpy().nonzero()[0][0])
            raise InvalidInputError(
                "addresses_column_too_long",
                field="file",
                name=path.name,
                row=row + 1,
                column=column,
                limit=limit,
            )
    bad_code = ~table["code_insee"].str.strip().str.match(_CODE)
    if bad_code.any():
        row = int(bad_code.to_numpy().nonzero()[0][0])
        raise InvalidInputError(
            "addresses_bad_commune_code",
            field="file",
            name=path.name,
            row=row + 1,
            code=str(table["code_insee"].iloc[row]),
        )
    lon = pd.to_numeric(table["lon"], errors="coerce")
    lat = pd.to_numeric(table["lat"], errors="coerce")
    bad = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InvalidInputError(
            "addresses_not_wgs84",
            field="file",
            name=path.name,
            row=row + 1,
            lon=str(table["lon"].iloc[row]),
            lat=str(table["lat"].iloc[row]),
        )
    split = [split_number(n) for n in table["numero"]]
    number = pd.Series([n for n, _ in split], index=table.index, dtype=object)
    suffix = pd.Series([x for _, x in split], index=table.index, dtype=object)
    if "rep" in table.columns:
        rep = table["rep"].str.strip().str.lower()
        suffix = suffix.where(rep == "", rep.str[:10])
    suffix = suffix.where(suffix != "", None)
    written = table["numero"].str.strip()
    if "rep" in table.columns:
        written = (written + " " + table["rep"].str.strip()).str.strip()
    label = (
        written + " " + table["nom_voie"].str.strip() + " " + table["code_postal"].str.strip()
        + " " + table["nom_commune"].str.strip()
    ).str.replace(r"\s+", " ", regex=True).str.strip()  # fmt: skip
    if (label.str.len() > 300).any():
        row = int((label.str.len() > 300).to_numpy().nonzero()[0][0])
        raise InvalidInputError(
            "addresses_too_long", field="file", name=path.name, row=row + 1, limit=300
        )
    return pd.DataFrame(
        {
            "number": number,
            "suffix": suffix,
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


def addresses_inside(
    table: pd.DataFrame, territory: shapely.Geometry, *, tolerance_m: float = ADDRESS_TOLERANCE_M
) -> pd.DataFrame:
    """The addresses of ``table`` that lie within ``tolerance_m`` of ``territory`` (the
    demo keeps these: a few BANO entrances lie past the simplified commune outlines).

    >>> table = pd.DataFrame({"lon": [6.85, 2.35], "lat": [47.65, 48.85]})
    >>> len(addresses_inside(table, shapely.box(6.8, 47.6, 6.9, 47.7)))
    1
    """
    points = shapely.points(table[["lon", "lat"]].to_numpy(dtype=float))
    outside = outside_territory(
        np.asarray(points, dtype=object),
        territory,
        territory_name="le territoire",
        tolerance_m=tolerance_m,
    )
    keep = np.ones(len(table), dtype=bool)
    keep[list(outside)] = False
    return table[keep].reset_index(drop=True)


class AddressesOutsideError(RowErrorsError):
    """Addresses that lie outside the territory (the communes of the database)."""

    def __init__(self, errors: list[RowError], total: int, header_lines: int = 1) -> None:
        first = errors[0]
        InvalidInputError.__init__(
            self,
            "addresses_outside",
            field="lon/lat",
            count=len(errors),
            total=total,
            tolerance=ADDRESS_TOLERANCE_M,
            line=first.row + header_lines,
            reason=first.reason,
        )
        self.errors = list(errors)[:MAX_ERRORS]


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
        territory_name="le territoire",
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
            + (" — latitude et longitude inversées ?" if "inversées" in said else ""),
        )
        for i, said in sorted(outside.items())
    ]
    raise AddressesOutsideError(errors, len(table), table.attrs.get("header_lines", 1))


def near_phrase(number: str, suffix: str | None, street: str) -> str:
    """How a point near an address is said: the street's first letter in lower case
    after « près du » (a numbered address) or « près de » (a street).

    >>> near_phrase("12", None, "Faubourg de France")
    'près du 12 faubourg de France'
    >>> near_phrase("3", "bis", "Rue Thiers"), near_phrase("", None, "Place d'Armes")
    ('près du 3 bis rue Thiers', "près de place d'Armes")
    """
    street = street[:1].lower() + street[1:]
    if not number:
        return f"près de {street}"
    return f"près du {' '.join(p for p in (number, suffix) if p)} {street}"
