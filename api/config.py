"""Application settings, read from the environment (pydantic-settings)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.accounts import SessionPolicy
from geo.density import MAX_HEAT_CELLS
from geo.errors import UnavailableError
from geo.grid import MAX_GRID_CELLS
from geo.hotspots import MAX_MAP_CELLS, MAX_STUDY_CELLS

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def default_workers() -> int:
    """One server process per core, at most 4 (each holds its caches and up to 20
    database connections)."""
    return max(1, min(os.cpu_count() or 1, 4))


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
    #: How many server processes ``psq serve`` starts (``PSQ_WORKERS``; ``--workers``):
    #: by default one per core, at most 4. Each has its own caches, brought up to date
    #: from the database (see docs/ARCHITECTURE.md, « Several processes »).
    workers: int = Field(default_factory=lambda: default_workers(), ge=1, le=64)
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
    #: A background job (proposal, re-optimisation) stops past this many minutes of work
    #: (``PSQ_JOB_DEADLINE_MINUTES``).
    job_deadline_minutes: float = Field(default=30, gt=0, le=24 * 60)
    #: The largest proposal asked of the engine, in units times sectors
    #: (``PSQ_MAX_PROPOSAL_WORK``): 4 000 000 is 100 000 cells in 40 sectors, about a
    #: minute of work; a larger request is refused at once with a 422 naming ``k``.
    max_proposal_work: int = Field(default=4_000_000, ge=1)
    #: The most cells a grid built on request may have, as estimated before any work
    #: (``PSQ_MAX_GRID_CELLS``): 25 000 is a CSP of 375 km² at resolution 10, about
    #: ten seconds of building and storing; a finer request is refused at once with a 422
    #: naming ``resolution``. ``psq`` commands run alone take up to
    #: :data:`geo.grid.MAX_GRID_CELLS`.
    max_grid_cells: int = Field(default=25_000, ge=1, le=MAX_GRID_CELLS)
    #: The most H3 cells a map of the problems (hot spots, heat, comparison of two
    #: periods) may have, estimated from its area before any work (``PSQ_MAX_MAP_CELLS``):
    #: 60 000 is a CSP of about 120 km² at resolution 11, under a second of work from
    #: scratch; a finer request is refused at once with a 422 naming ``res``.
    max_map_cells: int = Field(default=MAX_MAP_CELLS, ge=1, le=MAX_STUDY_CELLS)
    #: The most cells of the heat map's kernel density grid, counted from the problems'
    #: extent before the density is computed (``PSQ_MAX_HEAT_CELLS``): 1 000 000 is about
    #: a second of work; a ``bandwidth`` asked that needs more is refused with a 422 naming
    #: it, the default one gets coarser cells (``meta.kde_cell_m`` says how large).
    max_heat_cells: int = Field(default=MAX_HEAT_CELLS, ge=1, le=50_000_000)
    #: CPU seconds spent on the lower bound of each heuristic proposal (0: none computed),
    #: counted on the proposal's own thread: the same bound under any load.
    bound_seconds: float = Field(default=2.0, ge=0, le=60)
    #: The maps a page draws (hot spots, heat, comparison, trend, a commune's cells) may be
    #: served up to this many seconds late after a write (``PSQ_MAP_STALE_SECONDS``; 0:
    #: always exact): the previous answer, marked with its revision, while one background
    #: worker computes the new one (:meth:`api.map_cache.MapCache.get_or_refresh`).
    map_stale_seconds: float = Field(default=5.0, ge=0, le=300)
    #: Freezes the app's calendar on this day (``PSQ_TODAY``, an ISO date; see
    #: :mod:`api.clock`): the tests and the demonstrations set it. Not set: the real date.
    today: date | None = None

    # -- the HTTP server (api.http_server) ------------------------------------------------
    #: A client must send a request's head (its line and headers) within this many seconds
    #: of opening the connection, or of the first byte of its next request
    #: (``PSQ_HEADER_TIMEOUT_SECONDS``): else a 408 and the connection is closed (a client
    #: sending a byte every few seconds held it forever).
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    #: The largest request head (line and headers, ``PSQ_MAX_HEADER_BYTES``): past it, a
    #: 414 when the address (URL) is what is too long, else a 431.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)

    # -- uploads (api.uploads) -----------------------------------------------------------
    #: The largest file each kind of upload takes, in MB (``PSQ_MAX_UPLOAD_MB_LAYER``…):
    #: a layer or a plan's sectors, a problems file, a BAN address file, a study's
    #: document. A larger one is refused with a 413, from its ``Content-Length`` when the
    #: client gives one, else as soon as its bytes pass the limit.
    max_upload_mb_layer: float = Field(default=50, gt=0, le=10_000)
    max_upload_mb_problems: float = Field(default=20, gt=0, le=10_000)
    max_upload_mb_addresses: float = Field(default=100, gt=0, le=10_000)
    max_upload_mb_document: float = Field(default=20, gt=0, le=10_000)

    # -- logs (api.logs) ------------------------------------------------------------------
    #: ``json`` writes one JSON object per log line (``PSQ_LOG_FORMAT``); ``text`` the usual.
    log_format: Literal["text", "json"] = "text"
    #: The level of the app's logs (``PSQ_LOG_LEVEL``).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # -- notifications by e-mail (api.services.notifications) ---------------------------
    #: The SMTP server that delivers the notifications (``PSQ_SMTP_URL``):
    #: ``smtp://host:port``, ``smtp+starttls://host:port`` or ``smtps://host:port``, with an
    #: optional ``user:password@`` (URL-encoded). Not set: no worker runs and the
    #: notifications stay pending in the outbox.
    smtp_url: str | None = Field(default=None, repr=False)
    #: The sender of the notifications (``PSQ_MAIL_FROM``).
    mail_from: str = "psq-secteurs@localhost"
    #: The address of the site as its users reach it (``PSQ_PUBLIC_URL``,
    #: e.g. ``https://psq.example.fr``): the links in the e-mails start with it.
    public_url: str | None = None
    #: Seconds every socket operation with the SMTP server may take (``PSQ_SMTP_TIMEOUT``).
    smtp_timeout: float = Field(default=20.0, gt=0, le=600)
    #: The worker looks for due notifications every this many seconds (``PSQ_NOTIFY_POLL_SECONDS``).
    notify_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    #: A notification is ``failed`` after this many attempts (``PSQ_NOTIFY_MAX_ATTEMPTS``)…
    notify_max_attempts: int = Field(default=8, ge=1, le=100)
    #: …retried after ``backoff * 2^(attempts - 1)`` seconds (``PSQ_NOTIFY_BACKOFF_SECONDS``),
    #: at most ``PSQ_NOTIFY_BACKOFF_MAX_SECONDS`` apart.
    notify_backoff_seconds: int = Field(default=60, ge=1)
    notify_backoff_max_seconds: int = Field(default=6 * 3600, ge=1)
    #: The lead partner is reminded of an action this many days before it is due
    #: (``PSQ_NOTIFY_DUE_DAYS``).
    notify_due_days: int = Field(default=7, ge=0, le=365)
    #: The HTTP SMS gateway of the mayors' alerts (``PSQ_SMS_URL``): each SMS is a POST of
    #: JSON ``{to, text, sender, reference}`` (api.sms). Not set: SMS stay pending.
    sms_url: str | None = Field(default=None, repr=False)
    #: Its credentials, sent as ``Authorization: Bearer`` (``PSQ_SMS_TOKEN``).
    sms_token: str | None = Field(default=None, repr=False)
    #: The sender name shown on the SMS (``PSQ_SMS_SENDER``).
    sms_sender: str = Field(default="PSQ", max_length=11)

    def upload_limits(self) -> dict[str, int]:
        """The largest upload of each kind, in bytes (see :mod:`api.uploads`)."""
        mb = 1024 * 1024
        return {
            "layer": int(self.max_upload_mb_layer * mb),
            "problems": int(self.max_upload_mb_problems * mb),
            "addresses": int(self.max_upload_mb_addresses * mb),
            "document": int(self.max_upload_mb_document * mb),
        }

    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle=timedelta(minutes=self.session_idle_minutes),
            lifetime=timedelta(hours=self.session_lifetime_hours),
        )

    def require_database_url(self) -> str:
        if not self.database_url:
            # said in French by the CLI (psq.cli_common.reported_errors) and at start-up
            raise UnavailableError("database_url_missing")
        return self.database_url
