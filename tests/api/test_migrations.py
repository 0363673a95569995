"""The Alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from api.db import include_object
from api.models import Base


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        assert compare_metadata(context, Base.metadata) == []


def test_geometry_columns_have_gist_indexes(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in ("commune", "csp"):
        indexes = {i["name"]: i for i in inspector.get_indexes(table)}
        assert indexes[f"ix_{table}_geom"]["column_names"] == ["geom"]
        assert indexes[f"ix_{table}_geom"]["dialect_options"]["postgresql_using"] == "gist"
