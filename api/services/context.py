"""The context every use case runs in: the database, the caches and the job runner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine, make_session_factory, transaction
from api.editors import EditorCache
from api.jobs import JobRunner
from api.map_cache import MapCache
from geo.accounts import SessionPolicy


@dataclass
class Context:
    """What a service needs besides its arguments. The app makes one for its lifetime;
    the CLI, the demo loader and the tests make their own (:meth:`for_engine`)."""

    factory: sessionmaker[Session]
    editors: EditorCache = field(default_factory=EditorCache)
    maps: MapCache[Any] = field(default_factory=MapCache)
    jobs: JobRunner | None = None
    #: How long web sessions live (the app's settings; the defaults elsewhere).
    sessions: SessionPolicy = field(default_factory=SessionPolicy)

    @classmethod
    def for_engine(cls, engine: Engine) -> Context:
        return cls(make_session_factory(engine))

    @classmethod
    def for_url(cls, url: str) -> Context:
        return cls.for_engine(make_engine(url))

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (nothing is committed)."""
        with self.factory() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any error."""
        with transaction(self.factory) as session:
            yield session

    def job_runner(self) -> JobRunner:
        """The pool that runs long computations (proposals, re-optimisations)."""
        if self.jobs is None:
            self.jobs = JobRunner(self.factory)
        return self.jobs

    def close(self) -> None:
        """Wait for the running jobs, then release the database connections."""
        if self.jobs is not None:
            self.jobs.shutdown()
        engine = self.factory.kw.get("bind")
        if isinstance(engine, Engine):
            engine.dispose()
