"""Benchmark: address suggestions as one types, on 1 000 000 addresses.

Run: .venv/bin/python -m bench.geocode_bench [--count 1000000] [--queries 1000]

A throwaway PostGIS cluster gets ``--count`` **fictitious** addresses (a département's
BAN is that size): 194 made-up communes (« Ville-A0 »…, codes 91001…, random
postcodes), street names drawn from common French street-name words, numbers and
suffixes at random, positions at random around each commune's made-up centre. They are
stored as an import stores them (:func:`api.repositories.addresses.import_addresses`),
with the trigram and spatial indexes of migration 0017.

Then ``--queries`` queries typed as a user types them (an address's beginning, cut in the
middle of a word; abbreviations « bd », « av », « fbg »…; some with the commune's name or
postcode) go through the geocoder (:func:`api.services.addresses.geocode`: trigram
index, then ranking). Target: p95 under 50 ms. Baseline in the same run: the same typed
text as a plain ``label ILIKE '%…%'`` scan of the table (``LIMIT 5``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sqlalchemy import text

from api.db import transaction
from api.repositories.addresses import import_addresses
from api.services.addresses import geocode, reverse_geocode
from api.services.context import Context
from bench.common import throwaway_database
from geo.geocoding import normalize

STREET_TYPES = ["Rue", "Avenue", "Boulevard", "Chemin", "Impasse", "Place", "Allée",
                "Faubourg", "Route", "Square", "Quai", "Sentier"]  # fmt: skip
ABBREVIATED = {"Avenue": "av", "Boulevard": "bd", "Faubourg": "fbg", "Route": "rte",
               "Impasse": "imp", "Place": "pl"}  # fmt: skip
FIRST = ["Victor", "Jean", "Louis", "Marie", "Pierre", "Jules", "Anatole", "Émile", "Paul",
         "Gabriel", "Georges", "Henri", "Lucie", "Simone", "Camille", "Édouard", "Aristide",
         "Léon", "Jeanne", "Charles"]  # fmt: skip
LAST = ["Hugo", "Jaurès", "Pasteur", "Curie", "Ferry", "France", "Zola", "Moulin", "Briand",
        "Clemenceau", "Gambetta", "Carnot", "Péguy", "Sand", "Fauré", "Daudet", "Renoir",
        "Berlioz", "Debussy", "Monet", "Cézanne", "Rostand", "Lamartine", "Voltaire"]  # fmt: skip
THINGS = ["de la Paix", "des Lilas", "du Moulin", "de l'Église", "des Écoles", "du Château",
          "de la Gare", "des Acacias", "du Stade", "de la Mairie", "des Tilleuls", "du Lavoir",
          "de Paris", "de Versailles", "des Peupliers", "de la Fontaine", "du Bois",
          "des Prés", "du 8 Mai 1945", "du Général de Gaulle", "Saint-Martin",
          "Sainte-Geneviève"]  # fmt: skip
SUFFIXES = ["bis", "ter", "a", "b"]


def communes(rng: np.random.Generator, n: int = 194) -> pd.DataFrame:
    """Fictitious communes: codes 91xxx, names « Ville-A0 »…, postcodes, centres."""
    return pd.DataFrame(
        {
            "citycode": [f"91{i:03d}" for i in range(1, n + 1)],
            "city": [f"Ville-{chr(65 + i % 26)}{i}" for i in range(n)],
            "postcode": [f"91{rng.integers(100, 999)}" for _ in range(n)],
            "lon": rng.uniform(1.95, 2.55, n),
            "lat": rng.uniform(48.3, 48.75, n),
        }
    )


def synthetic_addresses(count: int, seed: int = 0) -> pd.DataFrame:
    """``count`` fictitious addresses in the address table's columns."""
    rng = np.random.default_rng(seed)
    towns = communes(rng)
    names = [f"{f} {last}" for f in FIRST for last in LAST] + THINGS
    n_streets = max(1, count // 40)
    streets = pd.DataFrame(
        {
            "street": [
                f"{STREET_TYPES[t]} {names[k]}"
                for t, k in zip(
                    rng.integers(0, len(STREET_TYPES), n_streets),
                    rng.integers(0, len(names), n_streets),
                    strict=True,
                )
            ],
            "town": rng.integers(0, len(towns), n_streets),
        }
    )
    streets = streets.drop_duplicates().reset_index(drop=True)
    street = rng.integers(0, len(streets), count)
    town = towns.iloc[streets["town"].to_numpy()[street]].reset_index(drop=True)
    number = rng.integers(1, 300, count).astype(str)
    suffix = np.where(rng.random(count) < 0.05, rng.choice(SUFFIXES, count), None)
    street_name = streets["street"].to_numpy()[street]
    search = {s: normalize(s) for s in set(street_name)}
    city_norm = {c: normalize(c) for c in towns["city"]}
    written = [n if s is None else f"{n} {s}" for n, s in zip(number, suffix, strict=True)]
    return pd.DataFrame(
        {
            "number": number,
            "suffix": suffix,
            "street": street_name,
            "postcode": town["postcode"].to_numpy(),
            "citycode": town["citycode"].to_numpy(),
            "city": town["city"].to_numpy(),
            "label": [
                f"{w} {s} {p} {c}"
                for w, s, p, c in zip(
                    written, street_name, town["postcode"], town["city"], strict=True
                )
            ],
            "search": [
                f"{search[s]} {city_norm[c]}"
                for s, c in zip(street_name, town["city"], strict=True)
            ],
            "lon": town["lon"].to_numpy() + rng.normal(0, 0.01, count),
            "lat": town["lat"].to_numpy() + rng.normal(0, 0.007, count),
        }
    )


def typed_queries(table: pd.DataFrame, n: int, seed: int = 1) -> list[str]:
    """What a user types when looking for ``n`` of the addresses: the number, the street
    (its type abbreviated one time in three), cut in the middle of its last word one time
    in two, and the commune's name or postcode one time in three."""
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.integers(0, len(table), n):
        row = table.iloc[int(i)]
        kind, rest = row["street"].split(" ", 1)
        if kind in ABBREVIATED and rng.random() < 1 / 3:
            kind = ABBREVIATED[kind]
        q = f"{row['number']} {kind} {rest}"
        draw = rng.random()
        if draw < 1 / 2:
            q = q[: max(len(q) - int(rng.integers(1, 4)), 6)]
        elif draw < 2 / 3:
            q += f" {row['city']}"
        elif draw < 5 / 6:
            q += f" {row['postcode']}"
        out.append(q)
    return out


def percentiles(times: list[float]) -> str:
    ms = np.array(times) * 1000
    p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ms.max():.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    start = time.perf_counter()
    table = synthetic_addresses(args.count)
    print(f"{len(table):,} fictitious addresses generated in {time.perf_counter() - start:.1f} s")
    with throwaway_database() as (_, factory, _base):
        ctx = Context(factory)
        start = time.perf_counter()
        with transaction(factory) as session:
            import_addresses(session=session, table=table, replace=False)
        with factory() as session:
            session.execute(text("ANALYZE address"))
            session.commit()
        print(f"stored with their indexes in {time.perf_counter() - start:.1f} s")
        queries = typed_queries(table, args.queries)
        for q in queries[:20]:  # warm the caches
            geocode(ctx, q)
        ours, found = [], 0
        for q in queries:
            t = time.perf_counter()
            results = geocode(ctx, q)
            ours.append(time.perf_counter() - t)
            found += bool(results.count)
        print(f"geocoder (trigram index + ranking): {percentiles(ours)}; "
              f"{found}/{len(queries)} queries with suggestions")  # fmt: skip
        plain, found_plain = [], 0
        with factory() as session:
            for q in queries[: max(50, len(queries) // 10)]:
                t = time.perf_counter()
                rows = session.execute(
                    text("SELECT label FROM address WHERE label ILIKE :q LIMIT 5"),
                    {"q": f"%{q}%"},
                ).all()
                plain.append(time.perf_counter() - t)
                found_plain += bool(rows)
        print(f"plain ILIKE scan of the labels: {percentiles(plain)} "
              f"({len(plain)} queries; {found_plain} with a result: no abbreviation, accent "
              "or unfinished word is understood)")  # fmt: skip
        reverse = []
        rng = np.random.default_rng(2)
        for i in rng.integers(0, len(table), 200):
            t = time.perf_counter()
            reverse_geocode(ctx, float(table["lon"].iloc[i]), float(table["lat"].iloc[i]))
            reverse.append(time.perf_counter() - t)
        print(f"reverse geocoding (GiST index, nearest): {percentiles(reverse)}")


if __name__ == "__main__":
    main()
