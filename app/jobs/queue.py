"""The durable job table: enqueue, claim with a lease, complete, retry, defer, dead-letter.

Every state change is one short transaction. A claim takes a lease; a worker that dies simply
lets its lease expire and another worker claims the job again. On PostgreSQL the claim uses
``FOR UPDATE SKIP LOCKED`` so many workers can share one table without blocking each other; on
SQLite ``BEGIN IMMEDIATE`` (see ``store.db``) makes claims one at a time.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session, col

from app.retry import PermanentError
from app.store.models import Job
from app.store.upsert import insert_ignoring_conflict

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    key: str
    ref: str
    attempts: int
    max_attempts: int

    def row_id(self) -> int:
        """``ref`` as the id of the row the job is about; a job whose ref is no id is broken
        for good (``PermanentError``): retrying cannot make it one."""
        try:
            return int(self.ref)
        except ValueError as exc:
            raise PermanentError(f"{self.kind}: ref {self.ref!r} is not a row id") from exc


def enqueue_many(conn: Connection, jobs: Iterable[dict[str, object]], *, now: float) -> None:
    """Insert jobs, skipping any whose ``key`` already exists (enqueueing is idempotent).

    Each dict needs ``kind``, ``key`` and ``ref``, and may carry ``run_at`` and
    ``max_attempts``. Runs inside the caller's transaction so a job lands with its cause.
    """
    rows = [
        {
            "kind": job["kind"],
            "key": job["key"],
            "ref": job["ref"],
            "status": QUEUED,
            "run_at": job.get("run_at", now),
            "attempts": 0,
            "max_attempts": job.get("max_attempts", 8),
            "created_at": now,
            "updated_at": now,
        }
        for job in jobs
    ]
    insert_ignoring_conflict(conn, Job, rows, unique=["key"])


def enqueue(
    session: Session,
    *,
    kind: str,
    key: str,
    ref: str,
    now: float,
    run_at: float | None = None,
    max_attempts: int = 8,
) -> None:
    """Enqueue one job in the session's transaction (no-op if ``key`` exists)."""
    enqueue_many(
        session.connection(),
        [
            {
                "kind": kind,
                "key": key,
                "ref": ref,
                "run_at": run_at or now,
                "max_attempts": max_attempts,
            }
        ],
        now=now,
    )


_CLAIM = """
UPDATE job SET status = 'running', attempts = attempts + 1, lease_until = :lease_until,
       locked_by = :worker, updated_at = :now
WHERE id = (
    SELECT id FROM job
    WHERE (status = 'queued' AND run_at <= :now)
       OR (status = 'running' AND lease_until < :now AND attempts < max_attempts)
    ORDER BY run_at, id
    LIMIT 1 {lock}
)
RETURNING id, kind, key, ref, attempts, max_attempts
"""


def claim(engine: Engine, *, worker: str, now: float, lease_seconds: float) -> ClaimedJob | None:
    """Take the next due job (or one whose worker's lease expired) and lease it to ``worker``.

    Jobs abandoned on their last attempt are buried first, at every claim: what waits on
    them (a reply on its parent notice, a comment on its issue) learns at once, busy queue
    or not.
    """
    with engine.begin() as conn:
        _bury_abandoned(conn, now=now)
        row = conn.execute(
            _claim_statement(engine.dialect.name),
            {"worker": worker, "now": now, "lease_until": now + lease_seconds},
        ).first()
    if row is None:
        return None
    return ClaimedJob(*row)


@functools.cache
def _claim_statement(dialect: str) -> TextClause:
    """The claim, built once per dialect: every job passes here."""
    return text(_CLAIM.format(lock="FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""))


# Built once, values bound at each call: every claim buries, every job is settled.
_JOBS = Job.__table__  # type: ignore[attr-defined]
_BURY_ABANDONED = (
    update(_JOBS)
    .where(
        _JOBS.c.status == RUNNING,
        _JOBS.c.lease_until < bindparam("now"),
        _JOBS.c.attempts >= _JOBS.c.max_attempts,
    )
    .values(status=DEAD, last_error="worker lost its lease on the last attempt")
)
# Only the worker holding the lease may settle a job: a late worker changes nothing. (Bind
# ``job_id`` and ``worker``.)
_OWNED = (
    _JOBS.c.id == bindparam("job_id"),
    _JOBS.c.locked_by == bindparam("worker"),
    _JOBS.c.status == RUNNING,
)
_COMPLETE = update(_JOBS).where(*_OWNED).values(status=DONE, lease_until=None, last_error=None)
_EXTEND = update(_JOBS).where(*_OWNED)


def _owner(job_id: int, worker: str) -> dict[str, object]:
    """The values ``_OWNED`` is bound with."""
    return {"job_id": job_id, "worker": worker}


def _bury_abandoned(conn: Connection, *, now: float) -> None:
    """A job whose worker died on every attempt will kill the next one too: mark it dead."""
    conn.execute(_BURY_ABANDONED, {"now": now, "updated_at": now})


def complete(engine: Engine, *, job_id: int, worker: str, now: float) -> bool:
    """Mark a job done; False if the lease was lost to another worker meanwhile."""
    with engine.begin() as conn:
        result = conn.execute(_COMPLETE, _owner(job_id, worker) | {"updated_at": now})
    return result.rowcount == 1


def extend_lease(engine: Engine, *, job_id: int, worker: str, until: float, now: float) -> bool:
    """Keep a running job's lease; False if the job is no longer this worker's."""
    with engine.begin() as conn:
        result = conn.execute(
            _EXTEND, _owner(job_id, worker) | {"lease_until": until, "updated_at": now}
        )
    return result.rowcount == 1


def backoff_seconds(attempts: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, scaled by a random 50-100 %."""
    delay = min(cap, base * 2.0 ** max(attempts - 1, 0))
    return float(delay * (0.5 + rng.random() / 2))


def fail(
    engine: Engine,
    *,
    job: ClaimedJob,
    worker: str,
    error: str,
    now: float,
    retry_in: float | None,
) -> str:
    """Record a failed attempt: back to the queue after ``retry_in`` seconds, or dead.

    ``retry_in=None`` or an exhausted attempt budget marks the job dead with the error, where
    ``deliveries replay`` can revive it. Returns the new status.
    """
    status = DEAD if retry_in is None or job.attempts >= job.max_attempts else QUEUED
    values: dict[str, object] = {
        "status": status,
        "lease_until": None,
        "locked_by": None,
        "last_error": error[:4000],
        "updated_at": now,
    }
    if status == QUEUED:
        values["run_at"] = now + (retry_in or 0.0)
    with engine.begin() as conn:
        conn.execute(update(_JOBS).where(*_OWNED).values(**values), _owner(job.id, worker))
    return status


def defer(
    engine: Engine, *, job: ClaimedJob, worker: str, until: float, reason: str, now: float
) -> None:
    """Put a job back until ``until`` without spending the attempt it just used."""
    _requeue_owned(engine, job=job, worker=worker, run_at=until, now=now, note=reason)


def release(engine: Engine, *, job: ClaimedJob, worker: str, now: float) -> None:
    """Hand a claimed job back at shutdown so another worker can run it straight away."""
    _requeue_owned(engine, job=job, worker=worker, run_at=now, now=now, note=None)


def _requeue_owned(
    engine: Engine, *, job: ClaimedJob, worker: str, run_at: float, now: float, note: str | None
) -> None:
    values: dict[str, object] = {
        "status": QUEUED,
        "run_at": run_at,
        "lease_until": None,
        "locked_by": None,
        "attempts": col(Job.attempts) - 1,
        "updated_at": now,
    }
    if note is not None:
        values["last_error"] = f"deferred: {note}"[:4000]
    with engine.begin() as conn:
        conn.execute(update(_JOBS).where(*_OWNED).values(**values), _owner(job.id, worker))


def release_orphans(
    engine: Engine, *, host: str, alive: Callable[[int], bool], now: float, me: str = ""
) -> int:
    """Hand back jobs leased by workers of ``host`` whose process is gone.

    A worker killed mid-job leaves its lease to run out (minutes). When the process on the
    same host restarts, it can tell the dead from the living and retry their jobs at once.
    Worker names are ``host:pid:suffix``; a name with the pid of ``me`` but another suffix
    is an earlier life of this process's pid (PID 1 in a restarted container). Returns how
    many jobs were released.
    """
    with engine.begin() as conn:
        rows = conn.execute(
            select(col(Job.id), col(Job.locked_by)).where(
                col(Job.status) == RUNNING, col(Job.locked_by).startswith(f"{host}:")
            )
        ).all()
        dead = [job_id for job_id, owner in rows if not _owner_alive(owner, alive, me)]
        if dead:
            conn.execute(
                update(Job)
                .where(col(Job.id).in_(dead), col(Job.status) == RUNNING)
                .values(
                    status=QUEUED,
                    run_at=now,
                    lease_until=None,
                    locked_by=None,
                    last_error="worker process ended while running this job",
                    updated_at=now,
                )
            )
    return len(dead)


def _owner_alive(owner: str | None, alive: Callable[[int], bool], me: str) -> bool:
    parts = (owner or "").split(":")
    if len(parts) < 2 or not parts[1].isdigit():
        return True  # not a name we understand: leave it to its lease
    if owner == me:
        return True
    if me.split(":")[:2] == parts[:2]:
        return False  # same host and pid, another life
    return alive(int(parts[1]))


def requeue(session: Session, *, key: str, now: float, running: bool = True) -> bool:
    """Revive a job (dead or done) with a fresh attempt budget; False if there is none.
    ``running=False`` leaves a job that runs now alone (another worker would claim it)."""
    where = [col(Job.key) == key]
    if not running:
        where.append(col(Job.status) != RUNNING)
    result = session.connection().execute(
        update(Job)
        .where(*where)
        .values(
            status=QUEUED, run_at=now, attempts=0, lease_until=None, locked_by=None, updated_at=now
        )
    )
    return result.rowcount > 0


def reschedule(session: Session, *, key: str, run_at: float, now: float) -> bool:
    """Move a job that has not run yet to ``run_at``; False if it ran, runs or is unknown."""
    result = session.connection().execute(
        update(Job)
        .where(col(Job.key) == key, col(Job.status) == QUEUED)
        .values(run_at=run_at, updated_at=now)
    )
    return result.rowcount > 0


def counts(session: Session) -> dict[str, int]:
    """Queued, running and dead jobs by status, for the gauges (other statuses are left out).

    Done jobs are nearly the whole table (one or more per delivery, kept for the retention
    days): counting them would read all of it on every scrape. The statuses the gauges show
    are a small range of the index ``ix_job_claim (status, run_at)``.
    """
    rows = session.execute(
        select(col(Job.status), func.count())
        .where(col(Job.status).in_((QUEUED, RUNNING, DEAD)))
        .group_by(col(Job.status))
    ).all()
    return {status: int(n) for status, n in rows}


def oldest_due(session: Session, *, now: float) -> float | None:
    """When the longest-waiting due job became due (its ``run_at``), if one waits."""
    value = session.execute(
        select(func.min(col(Job.run_at))).where(col(Job.status) == QUEUED, col(Job.run_at) <= now)
    ).scalar()
    return float(value) if value is not None else None


def get(session: Session, *, key: str) -> Job | None:
    """The job with this key, if any."""
    return session.execute(select(Job).where(col(Job.key) == key)).scalar_one_or_none()
