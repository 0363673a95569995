"""Database tables (SQLAlchemy 2 declarative, GeoAlchemy2 geometry columns).

Geometry columns are named ``geom`` and stored in EPSG:4326.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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
