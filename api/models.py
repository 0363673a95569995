"""Database tables (SQLAlchemy 2 declarative, GeoAlchemy2 geometry columns).

Geometry columns are named ``geom`` and stored in EPSG:4326.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from geo.accounts import ROLES


class Base(DeclarativeBase):
    pass


csp_commune = Table(
    "csp_commune",
    Base.metadata,
    Column("csp_id", ForeignKey("csp.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_code", ForeignKey("commune.code", ondelete="RESTRICT"), primary_key=True),
    Index("ix_csp_commune_commune_code", "commune_code"),
)


class Commune(Base):
    """A commune: INSEE code, name, population légale, polygon."""

    __tablename__ = "commune"

    code: Mapped[str] = mapped_column(String(5), primary_key=True, comment="INSEE code")
    name: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
    #: Its intercommunalité, when the boundaries file gives it (migration 0022).
    epci_code: Mapped[str | None] = mapped_column(String(20), comment="SIREN of its EPCI")
    epci_name: Mapped[str | None] = mapped_column(String(200))

    csps: Mapped[list[Csp]] = relationship(secondary=csp_commune, back_populates="communes")

    __table_args__ = (Index("ix_commune_geom", "geom", postgresql_using="gist"),)


class Csp(Base):
    """A circonscription de sécurité publique: a set of communes; geom is their union."""

    __tablename__ = "csp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    communes: Mapped[list[Commune]] = relationship(secondary=csp_commune, back_populates="csps")

    __table_args__ = (Index("ix_csp_geom", "geom", postgresql_using="gist"),)


class Layer(Base):
    """An imported territorial or sociological layer (see :mod:`geo.layers`)."""

    __tablename__ = "layer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(500), comment="file name it was imported from")
    source_crs: Mapped[str] = mapped_column(String(100))
    feature_count: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    extent: Mapped[WKBElement | None] = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=False), comment="where a grid is authoritative"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LayerFeature(Base):
    """One feature of a layer; kind-specific columns are null where they do not apply."""

    __tablename__ = "layer_feature"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layer.id", ondelete="CASCADE"), index=True)
    code: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(
        String(100), comment="barrier class, point type or zone type"
    )
    bridge: Mapped[bool] = mapped_column(Boolean, server_default="false")
    tunnel: Mapped[bool] = mapped_column(Boolean, server_default="false")
    values: Mapped[dict[str, float]] = mapped_column(
        JSONB, server_default="{}", comment="extensive variables of a population grid"
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (Index("ix_layer_feature_geom", "geom", postgresql_using="gist"),)


class CommuneQpv(Base):
    """A QPV known only by the communes it spans (no outline available)."""

    __tablename__ = "commune_qpv"

    commune_code: Mapped[str] = mapped_column(
        ForeignKey("commune.code", ondelete="CASCADE"), primary_key=True
    )
    qpv_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    qpv_name: Mapped[str] = mapped_column(String(300))


#: The kinds of unit a grid is made of: H3 cells clipped to the CSP, or street blocks.
UNIT_KINDS = ("h3", "blocks")
_UNITS_COMMENT = "h3: H3 cells clipped to the CSP; blocks: street blocks"


class Grid(Base):
    """The units of a CSP at one H3 resolution, with the parameters that built them.

    ``units`` says what they are: ``h3`` (H3 cells clipped to the CSP, :mod:`geo.grid`)
    or ``blocks`` (street blocks cut by the road/barrier lines and bounded in size by the
    H3 cells of ``resolution``, :mod:`geo.blocks`). One grid per (CSP, units, resolution).
    """

    __tablename__ = "grid"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"))
    resolution: Mapped[int] = mapped_column(Integer)
    units: Mapped[str] = mapped_column(String(8), server_default="h3", comment=_UNITS_COMMENT)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    cell_count: Mapped[int] = mapped_column(Integer)
    component_count: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("csp_id", "units", "resolution", name="uq_grid_csp_units_resolution"),
    )


class Cell(Base):
    """A unit of a grid with its attributes (see :mod:`geo.grid`): an H3 cell clipped to
    its CSP, or a street block (:mod:`geo.blocks`) when the grid's ``units`` is
    ``blocks``. The column ``h3`` holds the unit's id: the H3 index of a cell, or a
    block id (``b000123``) for a block. ``clipped``: the unit touches the CSP's outline."""

    __tablename__ = "cell"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True
    )
    h3: Mapped[str] = mapped_column(String(16), primary_key=True)
    commune_code: Mapped[str | None] = mapped_column(String(5))
    clipped: Mapped[bool] = mapped_column(Boolean)
    area_m2: Mapped[float] = mapped_column(Float)
    population: Mapped[float] = mapped_column(Float)
    households: Mapped[float] = mapped_column(Float)
    poor_households: Mapped[float] = mapped_column(Float)
    social_housing: Mapped[float] = mapped_column(Float)
    workload: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20), comment="grid, commune, grid+commune, none")
    component: Mapped[int] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (Index("ix_cell_geom", "geom", postgresql_using="gist"),)


class CellCount(Base):
    """The problems of a grid's cell (``synthetic_problems``: how many of them are
    synthetic), kept by the problems' writes in their own transaction (migration 0024);
    a cell without a row has none."""

    __tablename__ = "cell_count"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True
    )
    h3: Mapped[str] = mapped_column(String(16), primary_key=True)
    problems: Mapped[int] = mapped_column(Integer)
    synthetic_problems: Mapped[int] = mapped_column(Integer)


class CellMonthCount(Base):
    """The problems of a grid's cell reported in one month (``month``: its first day;
    ``synthetic_problems``: how many of them are synthetic), kept by the problems' writes
    in their own transaction with :class:`CellCount` (migration 0025); no row: none."""

    __tablename__ = "cell_month_count"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True
    )
    h3: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True, comment="its first day")
    problems: Mapped[int] = mapped_column(Integer)
    synthetic_problems: Mapped[int] = mapped_column(Integer)


class CellEdge(Base):
    """A pair of cells sharing an edge; ``blocked`` when a barrier cuts it with no crossing."""

    __tablename__ = "cell_edge"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True
    )
    a: Mapped[str] = mapped_column(String(16), primary_key=True)
    b: Mapped[str] = mapped_column(String(16), primary_key=True)
    shared_m: Mapped[float] = mapped_column(Float)
    barrier: Mapped[str | None] = mapped_column(String(100))
    blocked: Mapped[bool] = mapped_column(Boolean)


class Plan(Base):
    """A versioned sector plan of a CSP: which sector each cell of its grid belongs to.

    ``status`` is ``draft``, ``adopted``, ``archived`` or ``editing`` (a working copy of
    ``parent_id`` being edited by hand; at most one per parent); at most one adopted plan
    per CSP (a partial unique index). ``origin`` says who made it: ``engine`` (a
    proposal), ``communes`` (the whole-communes baseline), ``import`` (an existing sector
    layer) or ``edit`` (hand edits of its parent). ``version`` increases on every change
    (optimistic concurrency of edits); ``locked_sectors`` cannot be edited. Its cells are
    the units of the CSP's grid of the same ``units`` and ``resolution``.
    """

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"), index=True)
    resolution: Mapped[int] = mapped_column(Integer, comment="H3 resolution of its cells")
    units: Mapped[str] = mapped_column(String(8), server_default="h3", comment=_UNITS_COMMENT)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    origin: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(String(2000))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan.id", ondelete="SET NULL"),
        comment="The plan this one was derived from by hand edits",
    )
    locked_sectors: Mapped[list[int]] = mapped_column(JSONB, server_default="[]")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    notes: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index(
            "uq_plan_adopted_per_csp",
            "csp_id",
            unique=True,
            postgresql_where=text("status = 'adopted'"),
        ),
        Index(
            "uq_plan_editing_per_parent",
            "parent_id",
            unique=True,
            postgresql_where=text("status = 'editing'"),
        ),
    )


class PlanSector(Base):
    """A sector of a plan: its dissolved outline, workload and metrics."""

    __tablename__ = "plan_sector"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    workload: Mapped[float] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    seed_h3: Mapped[str | None] = mapped_column(String(16), comment="Its seed unit, if any")
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (Index("ix_plan_sector_geom", "geom", postgresql_using="gist"),)


class PlanCell(Base):
    """The sector of one unit in a plan (``h3``: an H3 index or a block id)."""

    __tablename__ = "plan_cell"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
    )
    h3: Mapped[str] = mapped_column(String(16), primary_key=True)
    sector: Mapped[int] = mapped_column(Integer)


class Job(Base):
    """A long computation run in the background (a sector proposal), polled by clients."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), server_default="queued")
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    stage: Mapped[str | None] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Partner(Base):
    """A partner of the CSP's GPOs (a mayor's office, a social landlord…)."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40), comment="a code of geo.problems.PARTNER_TYPES")
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200), comment="e-mail or telephone")
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Gpo(Base):
    """A groupe de partenariat opérationnel: one per sector of the adopted plan
    (``kind = 'sector'``), or thematic across several sectors."""

    __tablename__ = "gpo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), comment="sector or thematic")
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[int | None] = mapped_column(Integer, comment="sector index (sector GPOs)")
    sectors: Mapped[list[int]] = mapped_column(
        JSONB, server_default="[]", comment="sectors spanned (thematic GPOs)"
    )
    theme: Mapped[str | None] = mapped_column(String(40))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    chief_name: Mapped[str | None] = mapped_column(String(200))
    chief_grade: Mapped[str | None] = mapped_column(String(100))
    chief_contact: Mapped[str | None] = mapped_column(String(200))
    deputy_name: Mapped[str | None] = mapped_column(String(200))
    deputy_grade: Mapped[str | None] = mapped_column(String(100))
    categories: Mapped[list[str]] = mapped_column(
        JSONB, server_default="[]"
    )  # thematic GPOs: the problem categories of their theme (empty: all)
    cadence_days: Mapped[int] = mapped_column(Integer, server_default="15")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index(
            "uq_gpo_sector_per_csp",
            "csp_id",
            "sector",
            unique=True,
            postgresql_where=text("kind = 'sector'"),
        ),
    )


gpo_partner = Table(
    "gpo_partner",
    Base.metadata,
    Column("gpo_id", ForeignKey("gpo.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True),
)


class Meeting(Base):
    """A GPO meeting: planned (``prevue``: date, time, place, invited partners), then
    attended and decided, and closed (``close``) with its compte rendu; or ``annulee``.
    ``attendees`` are the people present who are not a partner organisation."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gpo_id: Mapped[int] = mapped_column(ForeignKey("gpo.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), server_default="prevue")
    held_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[time | None] = mapped_column(Time)
    place: Mapped[str | None] = mapped_column(String(200))
    attendees: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    notes: Mapped[str | None] = mapped_column(String(10_000))  # the free minutes
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    report_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_meeting_gpo_held_on", "gpo_id", "held_on"),)


class MeetingPartner(Base):
    """A partner organisation invited to a meeting, and whether it came."""

    __tablename__ = "meeting_partner"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True
    )
    invited: Mapped[bool] = mapped_column(Boolean, server_default="true")
    present: Mapped[bool | None] = mapped_column(Boolean)
    represented_by: Mapped[str | None] = mapped_column(String(200))


class MeetingDecision(Base):
    """What a meeting decided, problem by problem: a new action, a step of the
    problem-solving cycle, an evaluation, or a note."""

    __tablename__ = "meeting_decision"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # action, step, evaluation, note
    action_id: Mapped[int | None] = mapped_column(ForeignKey("action.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Problem(Base):
    """A located problem raised in a GPO. ``anchor`` is the point of ``geom`` nearest its
    centroid (the point itself for a point): it places the problem in a sector."""

    __tablename__ = "problem"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(10_000))
    address: Mapped[str | None] = mapped_column(String(300))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    reported_on: Mapped[date] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(16), server_default="normale")
    status: Mapped[str] = mapped_column(String(20), server_default="signale")
    status_on: Mapped[date] = mapped_column(Date, comment="date of the last status change")
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False
    )
    anchor: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (
        Index("ix_problem_anchor", "anchor", postgresql_using="gist"),
        Index("ix_problem_geom", "geom", postgresql_using="gist"),
        # With the anchors (migration 0025): the problems of a few days read from the
        # index alone (the OGC aggregate's first month).
        Index(
            "ix_problem_csp_reported",
            "csp_id",
            "reported_on",
            postgresql_include=["anchor"],
        ),
        # The OGC API's pages sorted by date (sortby=reported_on, either way) (migration 0023).
        Index("ix_problem_reported_id", "reported_on", "id"),
        # The open problems (migration 0021): what the GPOs' counts and lists read.
        Index(
            "ix_problem_open",
            "csp_id",
            "id",
            postgresql_include=["category"],
            postgresql_where=text("status IN ('signale', 'analyse', 'actions_en_cours', 'evalue')"),
        ),
    )


class ProblemPlace(Base):
    """The sector and GPO of a problem in its CSP's adopted plan (no row: not placed).
    Kept apart from ``problem`` so that a plan change rewrites narrow rows only, and
    without foreign keys, which would cost two key checks per row of a million-row
    placement: a trigger deletes a problem's placement with it (migration 0008)."""

    __tablename__ = "problem_place"

    problem_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    csp_id: Mapped[int] = mapped_column(Integer)
    sector: Mapped[int] = mapped_column(Integer)
    gpo_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index(
            "ix_problem_place_csp_sector",
            "csp_id",
            "sector",
            postgresql_include=["problem_id", "gpo_id"],
        ),
    )


class ProblemRevision(Base):
    """``n`` rises with every committed transaction that wrote what a ``topic`` covers in
    a CSP (migration 0019): ``problems`` for what the maps read, ``follow_up`` for what the
    lists add, ``counts`` (migration 0021) for which actions are open, when due and in
    what order they are listed (not a comment). ``csp_id`` 0 counts the writes to every
    CSP (a ``TRUNCATE``). What is
    cached about a CSP's problems is keyed on the sum of its numbers and of 0's."""

    __tablename__ = "problem_revision"

    csp_id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0: every CSP")
    topic: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class ProblemChange(Base):
    """A write not yet committed (a row per statement, CSP and topic, deleted at commit;
    migration 0019). Beside it, :class:`ProblemTouch` says which problems each
    transaction wrote."""

    __tablename__ = "problem_change"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    csp_id: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(16))


class ProblemTouch(Base):
    """A problem a transaction wrote (migration 0026): ``xid`` is the transaction's id, so
    a list or a map's points read in a snapshot are brought up to date by reading again
    the problems touched by the transactions that snapshot does not see. ``problem_id``
    0: every problem of the CSP (``csp_id`` 0: of every CSP), written by a bulk
    statement, a GPO's territory changed or a ``TRUNCATE``."""

    __tablename__ = "problem_touch"

    csp_id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0: every CSP")
    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    problem_id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0: every problem")


class ActionTouch(Base):
    """An action a transaction wrote (migration 0027), like :class:`ProblemTouch`: with its
    problem (0: only its steps were written); ``action_id`` 0: every action of the CSP
    (``csp_id`` 0: of every CSP), written by a bulk statement, a partner's organisation
    or a GPO's name changed, or a ``TRUNCATE``."""

    __tablename__ = "action_touch"

    csp_id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0: every CSP")
    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    action_id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0: every action")
    problem_id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0: its steps only")


class ProblemEvent(Base):
    """A dated step of a problem's life cycle."""

    __tablename__ = "problem_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problem.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(2000))


class Action(Base):
    """An action decided by the GPO for a problem, led by one partner."""

    __tablename__ = "action"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problem.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(40))
    lead_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="SET NULL")
    )
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), server_default="prevue")
    note: Mapped[str | None] = mapped_column(String(2000))
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __table_args__ = (
        # The open actions with their due date (migration 0021): the GPOs' counts.
        Index(
            "ix_action_open_due",
            "problem_id",
            "due_on",
            postgresql_where=text("status IN ('prevue', 'en_cours')"),
        ),
    )


class ActionEvent(Base):
    """A dated and signed step of an action: a status reached, a due date moved, a
    comment (any of them)."""

    __tablename__ = "action_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    on: Mapped[date] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(16))
    due_on: Mapped[date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(String(2000))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    signed_by: Mapped[str] = mapped_column(String(200))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Evaluation(Base):
    """The evaluation of a problem's actions: outcome and indicators."""

    __tablename__ = "evaluation"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problem.id", ondelete="CASCADE"), index=True
    )
    evaluated_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    indicators: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    note: Mapped[str | None] = mapped_column(String(2000))


class Address(Base):
    """An address of the local table the offline geocoder searches (BAN format)."""

    __tablename__ = "address"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    suffix: Mapped[str | None] = mapped_column(
        String(10), comment="« bis », « ter », « B »… (migration 0017)"
    )
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(5))
    citycode: Mapped[str] = mapped_column(String(5), index=True)
    city: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(300))
    search: Mapped[str] = mapped_column(String(400), comment="normalised street and commune")
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (
        Index("ix_address_geom", "geom", postgresql_using="gist"),
        Index("ix_address_street", "citycode", "postcode", "street"),
    )


class AddressStreet(Base):
    """A street of the address table (one per commune, postcode and street name), which
    suggestions search first (migration 0017); kept by the address imports."""

    __tablename__ = "address_street"
    __table_args__ = (
        Index(
            "ix_address_street_search_trgm",
            "search",
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
        ),
        {"comment": "the streets of the address table, which suggestions search first"},
    )

    citycode: Mapped[str] = mapped_column(String(5), primary_key=True)
    postcode: Mapped[str] = mapped_column(String(5), primary_key=True)
    street: Mapped[str] = mapped_column(String(200), primary_key=True)
    city: Mapped[str] = mapped_column(String(200))
    search: Mapped[str] = mapped_column(String(400), comment="normalised street and commune")


class Referent(Base):
    """A référent or correspondant sûreté who carries out the CSP's safety studies."""

    __tablename__ = "referent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), comment="referent or correspondant")
    grade: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(200), comment="e-mail or telephone")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class AuditRequest(Base):
    """A commune's request for a safety study (étude de sûreté) at a site: a point or a
    polygon (``geom``) and its ``anchor`` (the point of the site nearest its centroid).
    Its life cycle is :mod:`geo.audits`; ``status_on`` dates the last step."""

    __tablename__ = "audit_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"))
    commune_code: Mapped[str] = mapped_column(
        ForeignKey("commune.code", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40), comment="a code of geo.audits.KINDS")
    site_name: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    need: Mapped[str] = mapped_column(String(5000))
    desired_from: Mapped[date | None] = mapped_column(Date)
    desired_to: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_role: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    requested_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30), server_default="demandee")
    status_on: Mapped[date] = mapped_column(Date)
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("referent.id", ondelete="SET NULL"))
    planned_on: Mapped[date | None] = mapped_column(Date)
    refusal_reason: Mapped[str | None] = mapped_column(String(2000))
    recommendations: Mapped[str | None] = mapped_column(String(20000))
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("audit_request.id", ondelete="SET NULL"),
        comment="An open request for the same site, filed before (the commune confirmed)",
    )
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False
    )
    anchor: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (
        Index("ix_audit_request_csp_status", "csp_id", "status"),
        Index("ix_audit_request_anchor", "anchor", postgresql_using="gist"),
    )


class AuditEvent(Base):
    """A dated step of a safety-study request."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("audit_request.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(30))
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(2000))
    planned_on: Mapped[date | None] = mapped_column(Date)
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("referent.id", ondelete="SET NULL"))


class AuditDocument(Base):
    """The recommendations handed over for a request, as a file."""

    __tablename__ = "audit_document"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("audit_request.id", ondelete="CASCADE"), primary_key=True
    )
    filename: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


# -- accounts (migration 0012) ------------------------------------------------------------
class Account(Base):
    """A person who signs in: a lower-case e-mail, a role of ``geo.accounts.ROLES``, an
    Argon2id password hash, and the GPOs, communes or CSPs the role is bound to."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), comment="lower-case")
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), comment="a code of geo.accounts.ROLES")
    password_hash: Mapped[str] = mapped_column(String(200), comment="Argon2id")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="SET NULL"),
        comment="partenaire: the organisation whose actions it updates",
    )

    __table_args__ = (
        UniqueConstraint("email", name="uq_account_email"),
        CheckConstraint("email = lower(email)", name="ck_account_email_lower"),
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="ck_account_role"
        ),
    )


account_gpo = Table(
    "account_gpo",
    Base.metadata,
    Column("account_id", ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("gpo_id", ForeignKey("gpo.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_account_gpo_gpo_id", "gpo_id"),
)
account_commune = Table(
    "account_commune",
    Base.metadata,
    Column("account_id", ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_code", ForeignKey("commune.code", ondelete="CASCADE"), primary_key=True),
    Index("ix_account_commune_commune_code", "commune_code"),
)
account_csp = Table(
    "account_csp",
    Base.metadata,
    Column("account_id", ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("csp_id", ForeignKey("csp.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_account_csp_csp_id", "csp_id"),
)


class ApiToken(Base):
    """A personal access token: only the SHA-256 of the token is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(
        String(64), comment="hex SHA-256 of the token (never the token)"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_token_token_hash"),)


class LoginAttempt(Base):
    """A sign-in attempt, kept to throttle failures per e-mail and per address."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    email: Mapped[str] = mapped_column(String(254), comment="as typed, normalised")
    address: Mapped[str | None] = mapped_column(String(100), comment="the client's IP address")
    outcome: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        CheckConstraint(
            "outcome IN ('success', 'failure', 'throttled')", name="ck_login_attempt_outcome"
        ),
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )


class WebSession(Base):
    """A web session (the ``psq_session`` cookie, or a bearer token of
    ``POST /api/auth/token``): only the SHA-256 of its id is kept."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_hash: Mapped[str] = mapped_column(
        String(64), comment="hex SHA-256 of the session id (never the id)"
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="absolute")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(100), comment="the client's IP address")
    user_agent: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (UniqueConstraint("session_hash", name="uq_web_session_session_hash"),)


class AuditLogEntry(Base):
    """One line of the append-only audit trail (UPDATE, DELETE and TRUNCATE are refused
    by triggers). No foreign key: the trail outlives the accounts it names."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    actor: Mapped[str] = mapped_column(Text, comment="account:<id>, cli:<system user> or anonymous")
    actor_account_id: Mapped[int | None] = mapped_column(
        Integer, index=True, comment="no foreign key"
    )
    address: Mapped[str | None] = mapped_column(String(100), comment="the client's IP address")
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="{field: [before, after]}"
    )
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


# -- notifications (migration 0015) --------------------------------------------------------
class Notification(Base):
    """A message to deliver (the outbox): written in the transaction of the event it tells,
    delivered by the notification worker, retried with backoff until ``sent`` or
    ``failed`` (attempts exhausted). ``dedupe_key`` makes a reminder be sent once."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8), server_default="email", comment="email or sms")
    commune_code: Mapped[str | None] = mapped_column(
        ForeignKey("commune.code", ondelete="SET NULL"),
        index=True,
        comment="the commune it concerns (its delivery log)",
    )
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_notification_dedupe_key"),
        Index(
            "ix_notification_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )


class NotificationAttempt(Base):
    """One delivery attempt of a notification: sent, or failed and why."""

    __tablename__ = "notification_attempt"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(2000))


# -- the commune's space (migration 0016) -------------------------------------------------
class Convention(Base):
    """A convention de participation citoyenne over a quartier (``geom``) or the whole
    commune (``whole_commune``, no outline): its signatories (``[{role, name,
    signed_on}]``), start, optional fixed end, denunciation. Its terms, renewals and
    status are computed by :mod:`geo.participation`."""

    __tablename__ = "convention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"), index=True)
    commune_code: Mapped[str] = mapped_column(
        ForeignKey("commune.code", ondelete="CASCADE"), index=True
    )
    quartier: Mapped[str] = mapped_column(String(200))
    whole_commune: Mapped[bool] = mapped_column(Boolean, server_default="false")
    signatories: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    denounced_on: Mapped[date | None] = mapped_column(Date)
    denunciation_reason: Mapped[str | None] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(String(2000))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )

    __table_args__ = (
        CheckConstraint("end_on IS NULL OR end_on >= start_on", name="ck_convention_end"),
        Index("ix_convention_geom", "geom", postgresql_using="gist"),
    )


class ConventionReferent(Base):
    """A volunteer référent of a convention (personal data: police and commune only)."""

    __tablename__ = "convention_referent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    convention_id: Mapped[int] = mapped_column(
        ForeignKey("convention.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    street: Mapped[str | None] = mapped_column(String(300))


class Intervention(Base):
    """A police intervention on a commune's territory, recorded to alert its mayor."""

    __tablename__ = "intervention"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"))
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    nature: Mapped[str] = mapped_column(
        String(30), comment="geo.participation.INTERVENTION_NATURES"
    )
    place: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )

    __table_args__ = (Index("ix_intervention_commune_at", "commune_code", "occurred_at"),)


class AlertPreference(Base):
    """How a commune account (the mayor) wants its alerts: channels, natures (none: all),
    quiet hours (Paris time) and the phone number of its SMS."""

    __tablename__ = "alert_preference"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str | None] = mapped_column(String(40))
    channels: Mapped[list[str]] = mapped_column(JSONB, server_default='["email"]')
    natures: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    quiet_from: Mapped[time | None] = mapped_column(Time)
    quiet_to: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CsiContract(Base):
    """A contrat de sécurité intégrée over communes (``commune_codes``), its four
    objectives (``[{objective, actions: [{title, lead_partner, indicators}]}]``); every
    change is kept in :class:`CsiContractVersion`."""

    __tablename__ = "csi_contract"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    intercommunalite: Mapped[str | None] = mapped_column(String(200))
    commune_codes: Mapped[list[str]] = mapped_column(JSONB)
    signed_on: Mapped[date | None] = mapped_column(Date)
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    objectives: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("end_on IS NULL OR end_on >= start_on", name="ck_csi_contract_end"),
    )


class CsiContractVersion(Base):
    """A contract as it was after one change (its ``version``), and who made it."""

    __tablename__ = "csi_contract_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("csi_contract.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("contract_id", "version", name="uq_csi_contract_version"),)
