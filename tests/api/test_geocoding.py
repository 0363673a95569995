"""The offline geocoder on a BAN-format address sample, through the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo.geocoding import normalize, parse_query, score

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "ban_sample_belfort.csv"


def test_normalize_and_score() -> None:
    assert normalize("Faubourg  de   FRANCE") == "faubourg de france"
    assert normalize("r. de la République") == "rue de la republique"
    query = parse_query("12 fbg de France Belfort")
    assert query.number == "12" and query.words == ("faubourg", "france", "belfort")
    exact = score(query, "faubourg de france", "belfort", "12", "90000")
    other_number = score(query, "faubourg de france", "belfort", "1", "90000")
    other_street = score(query, "boulevard carnot", "belfort", "12", "90000")
    assert exact == 1.0 and exact > other_number > other_street
    # « 12 bis » is not « 12 »: the suffix decides between them (0.05)
    bis = parse_query("12 bis bd carnot")
    assert (bis.number, bis.suffix, bis.words) == ("12", "bis", ("boulevard", "carnot"))
    assert score(bis, "boulevard carnot", "belfort", "12", "90000", "bis") == 0.9
    assert score(bis, "boulevard carnot", "belfort", "12", "90000") == 0.85


@pytest.fixture
def addresses(client: TestClient, csp_id: int) -> None:
    del csp_id  # the demo territory
    response = client.post(
        "/api/addresses/import", files={"file": (SAMPLE.name, SAMPLE.read_bytes())}
    )
    assert response.status_code == 201
    assert response.json() == {"imported": 9, "added": 9, "updated": 0, "removed": 0}


@pytest.mark.usefixtures("addresses")
def test_geocode(client: TestClient, csp_id: int) -> None:
    found = client.get("/api/geocode", params={"q": "12 Fbg de France, Belfort"}).json()
    best = found["data"][0]
    assert best["label"] == "12 Faubourg de France 90000 Belfort"
    assert (best["lon"], best["lat"]) == (6.8612, 47.6371) and best["score"] == 1.0
    # Two communes have a rue de la République: the commune decides.
    valdoie = client.get("/api/geocode", params={"q": "2 rue de la république valdoie"}).json()
    assert valdoie["data"][0]["citycode"] == "90099"
    belfort = client.get("/api/geocode", params={"q": "5 rue de la republique 90000"}).json()
    assert belfort["data"][0]["citycode"] == "90010" and belfort["count"] == 1
    assert client.get("/api/geocode", params={"q": "rue inconnue"}).json()["count"] == 0
    # Limited to a CSP: all the sample's communes are in the demo CSP.
    in_csp = client.get("/api/geocode", params={"q": "rue de belfort", "csp": csp_id}).json()
    assert in_csp["data"][0]["label"] == "7 Rue de Belfort 90000 Offemont"
    assert client.get("/api/geocode", params={"q": "x"}).status_code == 422
    # Importing again replaces the communes' addresses instead of duplicating them, once
    # confirmed (replace=true).
    again = client.post(
        "/api/addresses/import",
        data={"replace": "true"},
        files={"file": (SAMPLE.name, SAMPLE.read_bytes())},
    )
    assert again.status_code == 201
    assert client.get("/api/geocode", params={"q": "boulevard carnot"}).json()["count"] == 2
    _suggestions_and_reverse_geocoding(client)


def test_bad_address_file(client: TestClient, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "numero;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"
        "1;Rue A;90000;90010;Belfort;abc;47.6\n"
    )
    response = client.post("/api/addresses/import", files={"file": ("bad.csv", bad.read_bytes())})
    assert response.status_code == 422 and "ligne 1 :" in response.json()["detail"]
    missing = tmp_path / "missing.csv"
    missing.write_text("numero;voie\n1;Rue A\n")
    response = client.post(
        "/api/addresses/import", files={"file": ("missing.csv", missing.read_bytes())}
    )
    assert response.status_code == 422 and "nom_voie" in response.json()["detail"]


HEADER = "numero;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"


@pytest.mark.usefixtures("addresses")
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "ni un CSV BAN lisible"),
        (b"\n", "ni un CSV BAN lisible"),
        (bytes(range(256)) * 40, "ni un CSV BAN lisible"),
        (HEADER.encode(), "aucune adresse dans le fichier"),
        (
            (HEADER + "1;" + "R" * 140_000 + ";90000;90010;Belfort;6.86;47.63\n").encode(),
            "",  # either unreadable (a field over the CSV reader's limit) or too long
        ),
        ((HEADER + "1;Rue A;90000;900100;Belfort;6.86;47.63\n").encode(), "code_insee"),
        ((HEADER + "1;" + "R" * 250 + ";90000;90010;Belfort;6.86;47.63\n").encode(), "nom_voie"),
    ],
    ids=[
        "empty",
        "blank line",
        "binary junk",
        "header only",
        "huge field",
        "long code",
        "long street",
    ],
)
def test_malformed_address_files_are_refused_and_keep_the_table(
    client: TestClient, content: bytes, expected: str
) -> None:
    """Files that used to answer 500 (issue 22): a 422 naming the file's problem, and the
    addresses already loaded are kept."""
    response = client.post("/api/addresses/import", files={"file": ("adresses.csv", content)})
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"]
    kept = client.get("/api/geocode", params={"q": "boulevard carnot"}).json()["count"]
    assert kept == 2


@pytest.mark.usefixtures("addresses")
def test_an_import_adds_and_updates_and_replaces_when_asked(client: TestClient) -> None:
    """The sample holds 7 addresses of Belfort (90010). A new address is added beside
    them; the same number of the same street is moved, not duplicated; ``replace=true``
    drops the commune's other addresses."""
    one = (HEADER + "5;Rue de la Paix;90000;90010;Belfort;6.8600;47.6400\n").encode()
    added = client.post("/api/addresses/import", files={"file": ("a.csv", one)})
    assert added.json() == {"imported": 1, "added": 1, "updated": 0, "removed": 0}
    assert client.get("/api/geocode", params={"q": "boulevard carnot"}).json()["count"] == 2
    moved = (HEADER + "10;Boulevard Carnot;90000;90010;Belfort;6.8591;47.6396\n").encode()
    updated = client.post("/api/addresses/import", files={"file": ("m.csv", moved)})
    assert updated.json() == {"imported": 1, "added": 0, "updated": 1, "removed": 0}
    carnot = client.get("/api/geocode", params={"q": "10 boulevard carnot"}).json()
    assert carnot["count"] == 2 and carnot["data"][0]["lon"] == 6.8591
    replaced = client.post(
        "/api/addresses/import", data={"replace": "true"}, files={"file": ("a.csv", one)}
    )
    assert replaced.json() == {"imported": 1, "added": 1, "updated": 0, "removed": 8}
    assert client.get("/api/geocode", params={"q": "boulevard carnot"}).json()["count"] == 0
    assert client.get("/api/geocode", params={"q": "rue de la paix"}).json()["count"] == 1
    # Valdoie's and Offemont's addresses are not the file's communes': kept.
    assert client.get("/api/geocode", params={"q": "offemont"}).json()["count"] == 1
    assert client.get("/api/geocode", params={"q": "valdoie"}).json()["count"] == 1
    # « st » and « ste » are « saint » and « sainte » (hand-made addresses of Belfort).
    saints = (
        HEADER
        + "3;Rue Saint-Christophe;90000;90010;Belfort;6.8620;47.6380\n"
        + "4;Place Sainte-Thérèse;90000;90010;Belfort;6.8630;47.6390\n"
    ).encode()
    assert (
        client.post("/api/addresses/import", files={"file": ("s.csv", saints)}).json()["added"] == 2
    )
    for q, label in (
        ("3 r st christophe", "3 Rue Saint-Christophe 90000 Belfort"),
        ("4 pl ste therese belfort", "4 Place Sainte-Thérèse 90000 Belfort"),
    ):
        assert client.get("/api/geocode", params={"q": q}).json()["data"][0]["label"] == label


def _suggestions_and_reverse_geocoding(client: TestClient) -> None:
    """Accents, case, abbreviations, an unfinished last word, a suffix; the address
    nearest a point."""

    def best(q: str) -> str:
        return str(client.get("/api/geocode", params={"q": q}).json()["data"][0]["label"])

    assert best("12 FBG DE FRANCE") == "12 Faubourg de France 90000 Belfort"
    assert best("12 faubourg de fr") == "12 Faubourg de France 90000 Belfort"
    assert best("place d'armes belfort") == "3 Place d'Armes 90000 Belfort"
    assert best("12 bis bd carnot") == "12 bis Boulevard Carnot 90000 Belfort"
    assert best("12 bd carnot") == "12 bis Boulevard Carnot 90000 Belfort"
    assert best("10 bd carnot") == "10 Boulevard Carnot 90000 Belfort"
    assert best("20 av jean jaures") == "20 Avenue Jean Jaurès 90000 Belfort"
    assert best("république 90300") == "2 Rue de la République 90300 Valdoie"
    # Reverse: 12 faubourg de France is at 6.8612, 47.6371; a point 0.0002° east
    # (about 15 m) is near it, one in the fields is near nothing.
    near = client.get("/api/geocode/reverse", params={"lon": 6.8614, "lat": 47.6371}).json()
    assert near["found"] and near["near"] == "près du 12 faubourg de France"
    assert 10 < near["distance_m"] < 20
    far = client.get("/api/geocode/reverse", params={"lon": 6.95, "lat": 47.70}).json()
    assert far == {"found": False, "label": None, "near": None, "lon": None, "lat": None,
                   "distance_m": None, "citycode": None, "max_distance_m": 150.0}  # fmt: skip
    bad = client.get("/api/geocode/reverse", params={"lon": 200, "lat": 47.7})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "lon"


@pytest.mark.usefixtures("addresses")
def test_addresses_outside_the_territory_are_refused_by_line(client: TestClient) -> None:
    """Line 3 is in Paris, line 4 has latitude and longitude swapped; line 2 is in
    Belfort. Nothing is imported, even with replace=true."""
    content = (
        HEADER
        + "5;Rue de la Paix;90000;90010;Belfort;6.8600;47.6400\n"
        + "1;Rue de Rivoli;75001;75101;Paris;2.3522;48.8566\n"
        + "2;Rue Thiers;90000;90010;Belfort;47.6400;6.8600\n"
    ).encode()
    response = client.post(
        "/api/addresses/import", data={"replace": "true"}, files={"file": ("a.csv", content)}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("lon/lat : 2 adresse(s) sur 3 hors du territoire")
    assert "ligne 3 du fichier" in body["detail"]
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "lon/lat"), (3, "lon/lat")]
    assert body["errors"][0]["reason"] == "[2.3522, 48.8566] (lon, lat) hors du territoire"
    assert body["errors"][1]["reason"].endswith("latitude et longitude inversées ?")
    assert client.get("/api/geocode", params={"q": "boulevard carnot"}).json()["count"] == 2
