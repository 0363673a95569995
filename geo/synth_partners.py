"""Seeded **fictitious** people and partner organisations of the demo's GPOs.

Real GPO records (who chairs them, who sits in them) are not public, so the demo makes
them up here, from the territory's own data (its communes' names and populations, read
from the database, never written in this file) and small pools of common French first and
last names. Every person's name ends with « (fictif) » or « (fictive) »; every e-mail
address is on the reserved ``.example`` top-level domain (RFC 2606), so none can reach
anyone. The organisations:

* one « Mairie de <commune> » per commune of the CSP;
* one « Police municipale de <commune> » per commune of at least
  :data:`POLICE_MUNICIPALE_POPULATION` inhabitants (the largest commune at least);
* one social landlord per two such communes (at least one), « Bailleur social —
  résidence … (fictif) », a « Collège … (fictif) » and a « Union des commerçants de
  <commune> (fictif) » per such commune;
* for the whole CSP: a transport operator, a prevention association, a mediation
  association, a residents' council and the « délégué cohésion police-population ».

Each has one contact person. :func:`partner_directory` is pure: the same communes and
seed give the same organisations, people and addresses.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FIRST_NAMES_F = (
    "Claire", "Julie", "Sophie", "Nadia", "Camille", "Isabelle", "Laura", "Amélie", "Sarah",
    "Céline", "Élodie", "Fatima", "Émilie", "Léa", "Manon", "Aurélie", "Inès", "Valérie",
)  # fmt: skip
FIRST_NAMES_M = (
    "Julien", "Thomas", "Karim", "Nicolas", "Mathieu", "Antoine", "Olivier", "Mehdi",
    "Laurent", "Romain", "Yannick", "Sébastien", "Vincent", "Hugo", "Damien", "Franck",
    "Bruno", "Samir",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Roux", "Fournier",
    "Mercier", "Blanc", "Guérin", "Faure", "Chevalier", "Masson", "Perrin", "Lemoine",
    "Renard", "Barbier", "Colin", "Vidal", "Caron", "Meunier", "Arnaud", "Brunet",
    "Hamidi", "Nguyen", "Da Silva", "Haddad", "Schmitt", "Marchal", "Rey", "Noël",
)  # fmt: skip
#: Fictitious place names (residences, neighbourhoods, schools): trees and landscapes.
PLACE_NAMES = (
    "des Tilleuls", "des Peupliers", "des Vergers", "des Cèdres", "de la Source",
    "des Prés", "du Mont", "des Érables", "des Châtaigniers", "de la Colline",
)  # fmt: skip
#: Partner types that may lead an action of each type, in order of preference.
LEADS: dict[str, tuple[str, ...]] = {
    "patrouilles": ("police_municipale",),
    "parties_communes": ("bailleur_social",),
    "arrete_municipal": ("mairie",),
    "enquete": (),
    "permanence": ("mairie",),
    "vehicules": ("police_municipale", "mairie"),
    "encombrants": ("mairie", "bailleur_social"),
    "neutralisation": ("bailleur_social", "mairie"),
    "videoprotection": ("transporteur", "mairie"),
    "suivi_social": ("association",),
    "prevention": ("education_nationale", "association", "delegue_cohesion"),
    "autre": ("mairie",),
}
POLICE_MUNICIPALE_POPULATION = 4_000
#: Police grades of a GPO's chef de secteur and of the deputy.
CHIEF_GRADES = ("Capitaine", "Commandant", "Lieutenant")
DEPUTY_GRADES = ("Brigadier-chef", "Major", "Lieutenant", "Brigadier")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    female: bool

    @property
    def name(self) -> str:
        """« Claire Martin (fictive) »: the name as stored and shown."""
        return f"{self.first} {self.last} ({'fictive' if self.female else 'fictif'})"

    def email(self, domain: str) -> str:
        return f"{slug(self.first)}.{slug(self.last)}@{domain}"


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits, other characters as single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = "".join(c if c.isalnum() else "-" for c in ascii_text.lower())
    return "-".join(part for part in out.split("-") if part)


def of_commune(name: str) -> str:
    """« de Montreuil », « d'Ivry », « du Mans » (« Le Mans »), « des Lilas » (« Les
    Lilas »)."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if name.startswith(article):
            return contracted + name[len(article) :]
    first = unicodedata.normalize("NFKD", name[:1]).encode("ascii", "ignore").decode().lower()
    return f"d'{name}" if first in "aeiouyh" and first else f"de {name}"


class People:
    """Draws fictitious people, never the same first and last name twice."""

    def __init__(self, rng: np.random.Generator, *, taken: Sequence[str] = ()) -> None:
        self._rng = rng
        self._used: set[tuple[str, str]] = set()
        self._taken = set(taken)  # names (as stored) already given

    def draw(self) -> Person:
        for _ in range(1000):
            female = bool(self._rng.random() < 0.5)
            pool = FIRST_NAMES_F if female else FIRST_NAMES_M
            first = pool[int(self._rng.integers(len(pool)))]
            last = LAST_NAMES[int(self._rng.integers(len(LAST_NAMES)))]
            person = Person(first, last, female)
            if (first, last) not in self._used and person.name not in self._taken:
                self._used.add((first, last))
                return person
        raise RuntimeError("people: the name pools are exhausted")


@dataclass(frozen=True)
class SynthPartner:
    """A fictitious partner organisation (``type``: a code of
    :data:`geo.problems.PARTNER_TYPES`) and its contact person; ``commune_code``: the
    commune it belongs to, when it belongs to one."""

    organisation: str
    type: str
    contact_name: str
    contact: str
    commune_code: str | None = None


@dataclass(frozen=True)
class CommuneInfo:
    code: str
    name: str
    population: int


def partner_directory(
    communes: Sequence[CommuneInfo], *, csp_name: str, rng: np.random.Generator
) -> list[SynthPartner]:
    """The CSP's fictitious partner organisations (see the module docstring), in a
    stable order."""
    people = People(rng)
    ranked = sorted(communes, key=lambda c: (-c.population, c.code))
    larger = [c for c in ranked if c.population >= POLICE_MUNICIPALE_POPULATION] or ranked[:1]
    places = list(PLACE_NAMES)
    rng.shuffle(places)
    out: list[SynthPartner] = []

    def add(organisation: str, kind: str, domain: str, commune: str | None = None) -> None:
        person = people.draw()
        out.append(SynthPartner(organisation, kind, person.name, person.email(domain), commune))

    for c in sorted(communes, key=lambda c: c.code):
        add(f"Mairie {of_commune(c.name)}", "mairie", f"mairie-{slug(c.name)}.example", c.code)
    for c in larger:
        domain = f"mairie-{slug(c.name)}.example"
        add(f"Police municipale {of_commune(c.name)}", "police_municipale", domain, c.code)
    for i, c in enumerate(larger[: max(1, (len(larger) + 1) // 2)]):
        residence = places[i % len(places)]
        add(
            f"Bailleur social — résidence {residence}, {c.name} (fictif)",
            "bailleur_social",
            "bailleur-social.example",
            c.code,
        )
    for i, c in enumerate(larger):
        college = places[-1 - i % len(places)]
        add(
            f"Collège {college}, {c.name} (fictif)",
            "education_nationale",
            f"college-{slug(college)}.example",
            c.code,
        )
        add(
            f"Union des commerçants {of_commune(c.name)} (fictif)",
            "commercant",
            f"commerces-{slug(c.name)}.example",
            c.code,
        )
    main = ranked[0].name if ranked else csp_name
    add(f"Réseau de transport urbain {of_commune(main)} (fictif)", "transporteur", "bus.example")
    add("Association de prévention spécialisée (fictif)", "association", "prevention.example")
    add("Association de médiation sociale (fictif)", "association", "mediation.example")
    add(
        f"Conseil citoyen — quartier {places[2 % len(places)]} (fictif)",
        "habitants",
        "conseil-citoyen.example",
    )
    add(
        f"Délégué cohésion police-population — CSP {csp_name}",
        "delegue_cohesion",
        "police.example",
    )
    return out


@dataclass(frozen=True)
class GpoInput:
    """An active GPO: ``communes`` (code, name) its sectors cover, main commune first."""

    id: int
    kind: str
    sectors: tuple[int, ...]
    categories: tuple[str, ...] = ()
    communes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Staff:
    gpo_id: int
    chief_grade: str
    chief_name: str
    chief_contact: str
    deputy_grade: str
    deputy_name: str
    cadence_days: int


def gpo_staff(gpo: GpoInput, people: People, rng: np.random.Generator) -> Staff:
    """A chef de secteur, a deputy and a cadence for the GPO."""
    chief, deputy = people.draw(), people.draw()
    return Staff(
        gpo_id=gpo.id,
        chief_grade=CHIEF_GRADES[int(rng.integers(len(CHIEF_GRADES)))],
        chief_name=chief.name,
        chief_contact=chief.email("police.example"),
        deputy_grade=DEPUTY_GRADES[int(rng.integers(len(DEPUTY_GRADES)))],
        deputy_name=deputy.name,
        cadence_days=30 if gpo.kind == "thematic" or rng.random() < 0.5 else 15,
    )


def gpo_members(
    gpo: GpoInput, directory: Sequence[SynthPartner], rng: np.random.Generator
) -> list[int]:
    """The partners (indexes in ``directory``) of the GPO (see :mod:`geo.synth_gpos`)."""
    codes = [code for code, _ in gpo.communes]
    of = lambda kind, code=None: [  # noqa: E731
        i
        for i, p in enumerate(directory)
        if p.type == kind and (code is None or p.commune_code == code)
    ]
    picked: list[int] = []
    if gpo.kind == "thematic":
        picked += of("transporteur")
        picked += [i for code in codes for i in of("mairie", code)]
        police = [i for code in codes for i in of("police_municipale", code)] or of(
            "police_municipale"
        )
        picked += police[:1] + of("delegue_cohesion")
    else:
        picked += [i for code in codes for i in of("mairie", code)]
        picked += [i for code in codes for i in of("police_municipale", code)]
        for kind in ("bailleur_social", "education_nationale"):
            local = [i for code in codes for i in of(kind, code)] or of(kind)
            if local:
                picked.append(local[int(rng.integers(len(local)))])
        picked += of("delegue_cohesion")
        others = [i for kind in ("commercant", "association", "habitants") for i in of(kind)]
        local_shop = [i for code in codes for i in of("commercant", code)]
        others = [i for i in others if directory[i].type != "commercant" or i in local_shop]
        if others:
            size = min(len(others), int(rng.integers(1, 3)))
            picked += [others[int(k)] for k in rng.choice(len(others), size=size, replace=False)]
    return list(dict.fromkeys(picked))


def lead_partner(
    action_type: str,
    members: list[int],
    directory: Sequence[SynthPartner],
    rng: np.random.Generator,
) -> int | None:
    """A member fit to lead an action of this type; None: the police itself."""
    if action_type == "patrouilles" and rng.random() < 0.5:
        return None  # the police's own patrols
    for kind in LEADS.get(action_type, ()):
        fit = [i for i in members if directory[i].type == kind]
        if fit:
            # the main commune's mairie (listed first) more often than the others
            return fit[0] if rng.random() < 0.6 else fit[int(rng.integers(len(fit)))]
    return None
