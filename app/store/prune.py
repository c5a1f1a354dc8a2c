"""Bounded storage: raw deliveries and finished jobs past the retention, old evaluations of
ordinary pull requests.

Kept for good: the ledger, follow-ups, tracking issues, notices, audit events, declarations,
recoveries, hotfix and cleanup evaluations, dead jobs (an operator may replay them) and the
deliveries of jobs that are not done. Deleted in batches of ``BATCH`` rows, each its own short
transaction, so intake (which writes on every webhook) never waits long for the write lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col

from app.store.models import Delivery, EvaluationRecord, Job

BATCH = 500
# A pause between batches hands the write lock to whoever waits for it (intake): SQLite's
# busy handler backs off, and a prune going batch after batch would win the lock every time.
PAUSE_SECONDS = 0.02
# Batches per kind and run at most: a run ends in bounded time whatever the backlog; the
# next run carries on.
MAX_BATCHES = 400
DONE = "done"
ORDINARY = "ordinary"


@dataclass
class Pruned:
    """Rows deleted (or, in a dry run, that would be), and the longest batch in seconds."""

    deliveries: int = 0
    jobs: int = 0
    evaluations: int = 0
    longest_batch: float = 0.0
    dry_run: bool = False
    batches: list[float] = field(default_factory=list, repr=False)


def prune(engine: Engine, *, before: datetime, dry_run: bool = False) -> Pruned:
    """Delete what is past ``before`` (and ordinary PRs' older evaluations at a head)."""
    result = Pruned(dry_run=dry_run)
    cutoff = before.timestamp()

    # In the claim index's order (status, run_at): ordered by id, each batch would sort every
    # done job left inside its write transaction (45 ms a batch at 100,000 done jobs).
    job_done = (
        select(col(Job.id))
        .where(col(Job.status) == DONE, col(Job.updated_at) < cutoff)
        .order_by(col(Job.status), col(Job.run_at))
    )
    # A delivery whose job is not done (queued, running, dead) stays for its job.
    # Matched by the job's unique key (``delivery:<id>``), so each lookup is an index probe.
    unfinished = exists().where(
        col(Job.key) == literal("delivery:") + col(Delivery.id), col(Job.status) != DONE
    )
    delivery_old = (
        select(col(Delivery.id))
        .where(col(Delivery.received_at) < before, ~unfinished)
        .order_by(col(Delivery.received_at))
    )
    newer = aliased(EvaluationRecord)
    superseded = exists().where(
        and_(
            col(newer.repo_full_name) == col(EvaluationRecord.repo_full_name),
            col(newer.number) == col(EvaluationRecord.number),
            col(newer.head_sha) == col(EvaluationRecord.head_sha),
            col(newer.id) > col(EvaluationRecord.id),
        )
    )
    evaluation_old = (
        select(col(EvaluationRecord.id))
        .where(col(EvaluationRecord.lane) == ORDINARY, superseded)
        .order_by(col(EvaluationRecord.id))
    )

    if dry_run:
        with engine.connect() as conn:
            for name, query in (
                ("deliveries", delivery_old),
                ("jobs", job_done),
                ("evaluations", evaluation_old),
            ):
                count = conn.execute(select(func.count()).select_from(query.subquery())).one()[0]
                setattr(result, name, int(count))
        return result

    result.deliveries = _in_batches(engine, Delivery, col(Delivery.id), delivery_old, result)
    result.jobs = _in_batches(engine, Job, col(Job.id), job_done, result)
    result.evaluations = _in_batches(
        engine, EvaluationRecord, col(EvaluationRecord.id), evaluation_old, result
    )
    result.longest_batch = max(result.batches, default=0.0)
    return result


def _in_batches(
    engine: Engine,
    table: type[SQLModel],
    key: ColumnElement[Any] | Mapped[Any],
    query: Select[Any],
    result: Pruned,
) -> int:
    deleted = 0
    for _ in range(MAX_BATCHES):
        start = time.perf_counter()
        with engine.begin() as conn:
            ids = list(conn.execute(query.limit(BATCH)).scalars())
            if ids:
                conn.execute(delete(table).where(key.in_(ids)))
        result.batches.append(time.perf_counter() - start)
        deleted += len(ids)
        if len(ids) < BATCH:
            break
        time.sleep(PAUSE_SECONDS)
    return deleted
