"""PostgreSQL advisory locks held by this process for as long as it lives: what tells
the other processes of ``psq serve --workers N`` (and of other servers on the same
database) that something is taken.

A session-level advisory lock belongs to one database connection and vanishes with it:
when the process ends, however it ends (Ctrl+C, a crash, ``kill -9``), PostgreSQL
closes its connection and the locks are free again. :class:`HeldLocks` keeps one
connection of its own (outside the engine's pool) for them:

- a job's lock (:data:`JOBS`, the job's id) from its creation to its end: a job whose
  lock nobody holds was left by a process that is gone (:func:`unheld_jobs_condition`,
  used by :func:`api.repositories.jobs.fail_interrupted_jobs`);
- the notification worker's lock (:data:`NOTIFY`): one process of all delivers the
  outbox at a time (:class:`api.services.notifications.NotificationWorker`).

The connection is checked before it is relied on (:meth:`HeldLocks.check`): when it was
lost (PostgreSQL restarted), a new one takes again the locks that nobody took meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: The first key of the two-key advisory locks (``pg_advisory_lock(int, int)``) of the
#: jobs: the second is the job's id. (The app's transaction locks use the one-key form,
#: ``pg_advisory_xact_lock(bigint)``: a space of their own.)
JOBS = 22_001
#: The notification worker's lock: ``(NOTIFY, 0)``.
NOTIFY = 22_002

Key = tuple[int, int]


def unheld_jobs_condition(id_column: str) -> str:
    """SQL true for a job whose lock no connection to this database holds (no live
    process runs or queues it): ``id_column`` is the job's id in the query."""
    return (
        "NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        f"AND l.objsubid = 2 AND l.classid::bigint = {JOBS} AND l.objid::bigint = {id_column})"
    )


class HeldLocks:
    """Advisory locks held on one connection of their own, opened at the first lock and
    closed by :meth:`close`. Thread-safe."""

    def __init__(self, url: URL | str) -> None:
        self._engine: Engine = create_engine(
            url, poolclass=NullPool, connect_args={"application_name": "psq-locks"}
        )
        self._conn: Connection | None = None
        self._held: set[Key] = set()
        self._mutex = threading.Lock()

    @classmethod
    def beside(cls, factory: sessionmaker[Session]) -> HeldLocks:
        """Locks on the database of the sessions of ``factory`` (with its credentials)."""
        engine = factory.kw["bind"]
        assert isinstance(engine, Engine)
        return cls(engine.url)

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _try(self, key: Key) -> bool:
        taken = self._connection().execute(
            text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": key[0], "b": key[1]}
        )
        return bool(taken.scalar_one())

    def take(self, key: Key) -> bool:
        """Take ``key`` if no one else holds it (never waits); True when this process
        holds it now."""
        with self._mutex:
            self._check()
            if key in self._held:
                return True
            if self._try(key):
                self._held.add(key)
                return True
            return False

    def release(self, key: Key) -> None:
        with self._mutex:
            if key not in self._held:
                return
            self._held.discard(key)
            try:
                self._connection().execute(
                    text("SELECT pg_advisory_unlock(:a, :b)"), {"a": key[0], "b": key[1]}
                )
            except DBAPIError:  # the connection is lost: so is the lock
                self._drop()

    def holds(self, key: Key) -> bool:
        """Whether this process still holds ``key`` (its connection checked first)."""
        with self._mutex:
            self._check()
            return key in self._held

    def check(self) -> None:
        """Make sure the connection is alive; when it was lost, take again on a new one
        the locks no one else took meanwhile (those taken are no longer held here)."""
        with self._mutex:
            self._check()

    def _check(self) -> None:
        if self._conn is None and not self._held:
            return
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))
                return
        except DBAPIError:
            log.warning("advisory locks: the connection was lost, taking the locks again")
            self._drop()
        lost = set(self._held)
        self._held.clear()
        try:
            for key in sorted(lost):
                if self._try(key):
                    self._held.add(key)
        except DBAPIError:  # the database is still down: try again at the next check
            self._drop()
            self._held = lost

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Release every lock (the connection closed)."""
        with self._mutex:
            self._held.clear()
            if self._conn is not None:
                with contextlib.suppress(DBAPIError):
                    self._conn.close()
                self._conn = None
            self._engine.dispose()
