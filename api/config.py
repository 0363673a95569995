"""Application settings, read from the environment (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Settings of one app instance.

    ``DATABASE_URL`` (any SQLAlchemy URL of a PostgreSQL database with PostGIS, e.g.
    ``postgresql+psycopg://user:pass@host:5432/db``) selects an external database. When
    it is not set, ``psq serve`` starts and uses the local cluster under ``PSQ_VAR_DIR``.
    The other variables take the ``PSQ_`` prefix (``PSQ_PORT=8080``).
    """

    model_config = SettingsConfigDict(env_prefix="PSQ_", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "PSQ_DATABASE_URL")
    )
    var_dir: Path = PROJECT_ROOT / "var"
    local_db_port: int = 55432
    host: str = "127.0.0.1"
    port: int = 8000
    demo_dir: Path = PROJECT_ROOT / "data" / "boundaries"

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("no database URL: set DATABASE_URL or start the local cluster")
        return self.database_url
