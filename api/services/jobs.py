"""Background jobs (proposals, re-optimisations) seen from the app: their state, and
those a stopped process left running, failed at start."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from api.repositories import jobs
from api.schemas import JobPublic
from api.services.audit_log import record_write
from api.services.context import Context
from geo.errors import ConflictError

#: How a finished job ended, in words.
JOB_ENDINGS = {"done": "réussie", "failed": "échouée", "cancelled": "annulée"}

log = logging.getLogger(__name__)


def fail_interrupted(ctx: Context) -> int:
    """Fail the jobs that were queued or running when their process stopped; returns how
    many. A job another live process runs (its advisory lock held, :mod:`api.jobs`) is
    left to it: each worker of ``psq serve --workers N`` calls this at its start. The
    app starts anyway when the database is down, and answers 503 until it is back."""
    try:
        with ctx.write() as session:
            return jobs.fail_interrupted_jobs(session=session)
    except OperationalError:
        log.warning("database unavailable at start-up")
        return 0


def get_job(ctx: Context, job_id: int) -> JobPublic:
    with ctx.read() as session:
        return jobs.get_job(session=session, job_id=job_id)


def cancel_job(ctx: Context, job_id: int) -> JobPublic:
    """Ask a queued or running job to stop (it stops at its next progress report, nothing
    of its work stored); a finished job is a 409 saying how it ended."""
    with ctx.write() as session:
        job = jobs.request_cancel(session=session, job_id=job_id)
        if job.status not in ("cancelling",):
            raise ConflictError(
                "job_already_finished",
                field="status",
                job_id=job_id,
                ending=JOB_ENDINGS[job.status],
            )
        record_write(session, ctx, "cancel", "job", job_id, detail={"kind": job.kind})
        return jobs.get_job(session=session, job_id=job_id)
