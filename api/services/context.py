"""The context every use case runs in: the database, the caches, the job runner, and who
acts (the audit trail's actor and address)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine, make_session_factory, transaction
from api.editors import EditorCache
from api.jobs import JobRunner
from api.map_cache import MapCache
from geo.accounts import Actor, Scope, SessionPolicy
from geo.density import MAX_HEAT_CELLS
from geo.grid import MAX_GRID_CELLS
from geo.hotspots import MAX_MAP_CELLS


@dataclass
class Context:
    """What a service needs besides its arguments. The app makes one for its lifetime;
    the CLI, the demo loader and the tests make their own (:meth:`for_engine`).

    ``actor`` and ``address`` say who acts and from where: every write records them in
    the audit trail. :meth:`acting` gives the same context (same factory, caches and job
    runner) for another actor: the app's dependency does it for each request."""

    factory: sessionmaker[Session]
    editors: EditorCache = field(default_factory=EditorCache)
    maps: MapCache[Any] = field(default_factory=lambda: MapCache(size=256))
    #: The base map's vector tiles, valid while its data have not changed.
    tiles: MapCache[bytes] = field(default_factory=lambda: MapCache(size=4096))
    jobs: JobRunner | None = None
    #: How long web sessions live (the app's settings; the defaults elsewhere).
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    #: The most problems one export holds (the app's settings, ``PSQ_EXPORT_MAX_PROBLEMS``).
    export_rows: int = 50_000
    #: A job stops past this many seconds of work (``PSQ_JOB_DEADLINE_MINUTES``)…
    job_deadline_s: float = 1800
    #: …and a proposal is refused past this many units times sectors (``PSQ_MAX_PROPOSAL_WORK``).
    proposal_budget: int = 4_000_000
    #: …and a grid past this many cells, estimated before any work (``PSQ_MAX_GRID_CELLS``).
    grid_cell_budget: int = MAX_GRID_CELLS
    #: …and a map of the problems past this many H3 cells, estimated from its area
    #: before any work (``PSQ_MAX_MAP_CELLS``), or past this many cells of its density
    #: grid (``PSQ_MAX_HEAT_CELLS``).
    map_cell_budget: int = MAX_MAP_CELLS
    heat_cell_budget: int = MAX_HEAT_CELLS
    #: Seconds spent on each heuristic proposal's lower bound (``PSQ_BOUND_SECONDS``).
    bound_budget_s: float = 2.0
    #: How many features an OGC API request matched, by (collection, filters, perimeter):
    #: ``numberMatched`` is not recounted at every page (:mod:`api.services.ogc`).
    ogc_counts: MapCache[int] = field(default_factory=lambda: MapCache(size=512))
    #: What the OGC API reads once per problems' revision (:mod:`api.services.ogc`): their
    #: ids at every 10 000th rank per filter and perimeter (a deep ``offset`` starts from
    #: the primary key) and the last 12 months' counts per cell of a perimeter.
    ogc_indexes: MapCache[Any] = field(default_factory=lambda: MapCache(size=64))
    #: Who each credential opens, kept until the ``accounts`` revision moves
    #: (:func:`api.services.sessions.resolve_caller`).
    callers: MapCache[Any] = field(default_factory=lambda: MapCache(size=4096))
    #: The lists of problems and actions kept with the snapshot they were read in,
    #: brought up to date by the problems and actions written since
    #: (:mod:`api.services.kept_lists`).
    lists: MapCache[Any] = field(default_factory=lambda: MapCache(size=64))
    #: Who acts (the audit trail's actor) and their client address, if any.
    actor: Actor = field(default_factory=Actor.anonymous)
    address: str | None = None
    #: What the actor may see: every session this context opens carries it
    #: (``session.info["scope"]``), and the repositories limit their queries to it.
    scope: Scope = field(default_factory=Scope.everything)
    #: The context this one acts for (:meth:`acting`): it owns the job runner.
    _root: Context | None = field(default=None, repr=False, compare=False)
    #: The factory's engine in autocommit (:meth:`read_alone`), made at its first use.
    _alone: Engine | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_engine(cls, engine: Engine) -> Context:
        return cls(make_session_factory(engine))

    @classmethod
    def for_url(cls, url: str) -> Context:
        return cls.for_engine(make_engine(url))

    def acting(
        self, actor: Actor, address: str | None = None, scope: Scope | None = None
    ) -> Context:
        """This context acting as ``actor`` from ``address``, limited to ``scope`` (no
        limit by default): a cheap copy sharing the session factory, the caches and the
        job runner."""
        return replace(
            self,
            actor=actor,
            address=address,
            scope=scope or Scope.everything(),
            _root=self._root or self,
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (nothing is committed), limited to :attr:`scope`."""
        with self.factory() as session:
            session.info["scope"] = self.scope
            yield session

    @contextmanager
    def read_alone(self) -> Iterator[Session]:
        """A session whose statements each run alone (autocommit), limited to
        :attr:`scope`: one round trip per statement, without the ``BEGIN`` and the
        ``ROLLBACK`` of :meth:`read` (two more round trips). For one statement that
        reads (the caller's check at every request,
        :func:`api.services.sessions.resolve_caller`), never for several that must
        see the same snapshot."""
        root = self._root or self
        if root._alone is None:
            engine = self.factory.kw["bind"]
            root._alone = engine.execution_options(isolation_level="AUTOCOMMIT")
        with Session(root._alone, expire_on_commit=False) as session:
            session.info["scope"] = self.scope
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One unit of work, limited to :attr:`scope`: committed when the block ends,
        rolled back on any error."""
        with transaction(self.factory) as session:
            session.info["scope"] = self.scope
            yield session

    def job_runner(self) -> JobRunner:
        """The pool that runs long computations (proposals, re-optimisations), shared by
        every context acting for the same root."""
        if self._root is not None:
            return self._root.job_runner()
        if self.jobs is None:
            self.jobs = JobRunner(self.factory, deadline_s=self.job_deadline_s)
        return self.jobs

    def close(self) -> None:
        """Wait for the running jobs, then release the database connections (the root
        context's: a context made by :meth:`acting` leaves them to it)."""
        if self._root is not None:
            return
        if self.jobs is not None:
            self.jobs.shutdown()
        engine = self.factory.kw.get("bind")
        if isinstance(engine, Engine):
            engine.dispose()
