"""Application settings, read from the environment (pydantic-settings)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.accounts import SessionPolicy

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
    #: A web session ends after this many minutes without a request (``PSQ_SESSION_IDLE_MINUTES``)…
    session_idle_minutes: int = Field(default=30, ge=1)
    #: …and this many hours after the sign-in, whatever its use (``PSQ_SESSION_LIFETIME_HOURS``).
    session_lifetime_hours: int = Field(default=12, ge=1)
    #: The reverse proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed
    #: (comma-separated addresses, ``*`` for any; ``PSQ_FORWARDED_ALLOW_IPS``): behind one,
    #: the audit trail and the sign-in throttling see the client's address, and cookies
    #: are Secure when the client used https.
    forwarded_allow_ips: str = "127.0.0.1"
    #: The most problems an export of the problems page holds (``PSQ_EXPORT_MAX_PROBLEMS``).
    export_max_problems: int = Field(default=50_000, ge=1)

    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle=timedelta(minutes=self.session_idle_minutes),
            lifetime=timedelta(hours=self.session_lifetime_hours),
        )

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("no database URL: set DATABASE_URL or start the local cluster")
        return self.database_url
