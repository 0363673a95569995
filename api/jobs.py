"""Run long computations (sector proposals, re-optimisations) in a worker thread;
progress goes to the ``job`` table, which clients poll (``GET /api/jobs/{id}``).

A job stops at its next progress report once it is cancelled (``POST
/api/jobs/{id}/cancel`` marks it ``cancelling``; the worker then marks it ``cancelled``)
or once it has run past the deadline (``PSQ_JOB_DEADLINE_MINUTES``): the engines report
their progress often, so neither waits long, and nothing of the unfinished work is
stored."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from api.db import transaction
from api.repositories.jobs import cancelled_job, fail_job, finish_job, set_progress
from geo.errors import PsqError
from geo.sectorize.base import Progress

log = logging.getLogger(__name__)

_PROGRESS_INTERVAL_S = 0.25  # at most four progress writes a second


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

    def submit(self, *, job_id: int, work: Callable[[Progress], int]) -> Future[None]:
        """Run ``work(progress)`` for the job; it returns the id of the plan it made or
        changed. Domain errors fail the job with their message."""
        return self._pool.submit(self._run, job_id, work)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: int, work: Callable[[Progress], int]) -> None:
        last = 0.0
        started = time.monotonic()

        def progress(fraction: float, stage: str) -> None:
            nonlocal last
            now = time.monotonic()
            if now - started > self.deadline_s:
                raise JobPastDeadline("job_past_deadline", minutes=round(self.deadline_s / 60, 2))
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
