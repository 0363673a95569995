"""Background jobs: created by a request, updated by their worker, polled by clients."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from api.advisory import unheld_jobs_condition
from api.models import Job
from api.repositories.base import require
from api.schemas import JobPublic


def create_job(*, session: Session, kind: str, csp_id: int, parameters: dict[str, Any]) -> Job:
    job = Job(kind=kind, csp_id=csp_id, parameters=parameters, status="queued", progress=0.0)
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: int) -> JobPublic:
    job = require(session, Job, job_id)
    return JobPublic.model_validate(job, from_attributes=True)


def set_progress(*, session: Session, job_id: int, progress: float, stage: str) -> bool:
    """Record the job's progress; False when it is no longer to run (cancelled)."""
    updated = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(["queued", "running"]))
        .values(status="running", progress=round(min(max(progress, 0.0), 1.0), 4), stage=stage)
        .returning(Job.id)
    ).first()
    return updated is not None


def request_cancel(*, session: Session, job_id: int) -> Job:
    """Mark a queued or running job ``cancelling`` (its worker stops at its next progress
    report); a finished one is left as it is. The job, locked."""
    job = require(session, Job, job_id, lock=True)
    if job.status in ("queued", "running"):
        job.status = "cancelling"
        session.flush()
    return job


def cancelled_job(*, session: Session, job_id: int) -> None:
    """The job stopped as asked (a job failed meanwhile, as interrupted, stays failed)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "cancelling")
        .values(status="cancelled", error="annulée à la demande", finished_at=func.now())
    )


def finish_job(*, session: Session, job_id: int, plan_id: int) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status="done", progress=1.0, stage="done", plan_id=plan_id, finished_at=func.now())
    )


def fail_job(*, session: Session, job_id: int, error: str) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status="failed", error=error[:4000], finished_at=func.now())
    )


def fail_interrupted_jobs(*, session: Session) -> int:
    """Jobs left queued or running by a stopped server can never finish: mark them failed.
    Only those whose advisory lock no process holds (:mod:`api.advisory`): another live
    process (``psq serve --workers N``, another server) is running the others."""
    ids = session.scalars(
        select(Job.id)
        .where(Job.status.in_(["queued", "running", "cancelling"]))
        .where(text(unheld_jobs_condition("job.id")))
        .with_for_update(skip_locked=True)
    ).all()
    for job_id in ids:
        fail_job(session=session, job_id=job_id, error="interrupted: the server stopped")
    return len(ids)
