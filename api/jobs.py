"""Run long computations (sector proposals, re-optimisations) in a worker thread;
progress goes to the ``job`` table, which clients poll (``GET /api/jobs/{id}``).

A job stops at its next progress report once it is cancelled (``POST
/api/jobs/{id}/cancel`` marks it ``cancelling``; the worker then marks it ``cancelled``)
or once it has run past the deadline (``PSQ_JOB_DEADLINE_MINUTES``): the engines report
their progress often, so neither waits long, and nothing of the unfinished work is
stored.

Several processes may serve the app (``psq serve --workers N``): a job runs in the
process whose request created it, and its state is in the table, so any process answers
its polls and its cancellation. The process holds the job's advisory lock
(:mod:`api.advisory`) from its creation (:meth:`JobRunner.claim`, inside the creating
transaction) to its end: a job whose lock nobody holds was left by a process that is
gone, and only those are failed at start-up (:func:`api.services.jobs.fail_interrupted`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from api import advisory
from api.db import transaction
from api.repositories.jobs import cancelled_job, fail_job, finish_job, set_progress
from geo.errors import PsqError
from geo.sectorize.base import Progress

log = logging.getLogger(__name__)

_PROGRESS_INTERVAL_S = 0.25  # at most four progress writes a second
_LOCKS_CHECK_S = 5.0  # the locks' connection checked at most this often while a job runs


class JobCancelled(PsqError):
    """The job was cancelled by a user: the worker stops at its next progress report."""


class JobPastDeadline(PsqError):
    """The job ran longer than the deadline: the worker stops at its next progress report."""


class JobRunner:
    """A small pool of worker threads owned by the app (one per app, closed with it);
    each job stops past ``deadline_s`` seconds of work."""

    def __init__(
        self, factory: sessionmaker[Session], workers: int = 1, deadline_s: float = 1800
    ) -> None:
        self._factory = factory
        self.deadline_s = deadline_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="psq-job")
        self._locks: advisory.HeldLocks | None = None

    @property
    def locks(self) -> advisory.HeldLocks:
        """The advisory locks of this runner's jobs, on a connection of their own."""
        if self._locks is None:
            self._locks = advisory.HeldLocks.beside(self._factory)
        return self._locks

    def claim(self, job_id: int) -> None:
        """Hold the job's lock: this process runs it (called before the job's creation
        is committed, so that no other process ever sees it unclaimed)."""
        self.locks.take((advisory.JOBS, job_id))

    def submit(self, *, job_id: int, work: Callable[[Progress], int]) -> Future[None]:
        """Run ``work(progress)`` for the job; it returns the id of the plan it made or
        changed. Domain errors fail the job with their message."""
        self.claim(job_id)
        return self._pool.submit(self._run, job_id, work)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._locks is not None:
            self._locks.close()

    def _run(self, job_id: int, work: Callable[[Progress], int]) -> None:
        try:
            self._run_held(job_id, work)
        finally:
            self.locks.release((advisory.JOBS, job_id))

    def _run_held(self, job_id: int, work: Callable[[Progress], int]) -> None:
        last = checked = 0.0
        started = time.monotonic()

        def progress(fraction: float, stage: str) -> None:
            nonlocal last, checked
            now = time.monotonic()
            if now - started > self.deadline_s:
                raise JobPastDeadline("job_past_deadline", minutes=round(self.deadline_s / 60, 2))
            if now - checked >= _LOCKS_CHECK_S:
                checked = now
                self.locks.check()
            if now - last >= _PROGRESS_INTERVAL_S:
                last = now
                with transaction(self._factory) as session:
                    running = set_progress(
                        session=session, job_id=job_id, progress=fraction, stage=stage
                    )
                if not running:
                    raise JobCancelled("annulée à la demande")

        try:
            progress(0.0, "loading")
            plan_id = work(progress)
        except JobCancelled:
            with transaction(self._factory) as session:
                cancelled_job(session=session, job_id=job_id)
        except PsqError as exc:
            with transaction(self._factory) as session:
                fail_job(session=session, job_id=job_id, error=str(exc))
        except Exception as exc:  # a bug: record it, so that the job does not hang
            log.exception("job %s failed", job_id)
            with transaction(self._factory) as session:
                fail_job(
                    session=session, job_id=job_id, error=f"internal error: {type(exc).__name__}"
                )
        else:
            with transaction(self._factory) as session:
                finish_job(session=session, job_id=job_id, plan_id=plan_id)
