"""A hotfix's follow-ups from the merge to the last one done: open, schedule, close.

Each follow-up has two scheduled jobs in the durable queue: its reminder and its deadline.
They survive restarts and run once across workers; when they fire they check the deadline
against the current policy first, and wait longer (``Defer``) if it moved later.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from app.followups import queries, tracker
from app.followups.tracker import Hotfix
from app.jobs import queue
from app.rules.due_dates import FollowUpKind, due_at, obligations, remind_at
from app.services import Services
from app.store.models import FollowUp

log = logging.getLogger(__name__)

REMIND_JOB = "follow-up-reminder"
DUE_JOB = "follow-up-due"


def job_key(kind: str, follow_up_id: int) -> str:
    return f"{kind}:{follow_up_id}"


async def open_follow_ups(services: Services, hotfix_id: int) -> None:
    """Record what a merged hotfix owes, schedule its deadlines, open its tracking issue.

    Safe to run again (a retried job): rows and jobs are keyed, the issue is adopted.
    """
    hotfix = await tracker.load(services, hotfix_id)
    if hotfix is None:
        log.warning("hotfix %d is not in the ledger; no follow-ups", hotfix_id)
        return
    record = hotfix.record
    owed = obligations(
        merged_at=record.merged_at,
        author=record.author,
        cleanup_owner=record.cleanup_owner,
        breakglass=record.breakglass,
        org=record.org,
        policy=hotfix.policy,
        drill=record.drill,
    )
    now = services.clock.now()
    with Session(services.engine, expire_on_commit=False) as session:
        rows = queries.add_follow_ups(session, hotfix_id=hotfix_id, obligations=owed, now=now)
        for row in rows:
            _schedule(
                session,
                row,
                remind=remind_at(
                    FollowUpKind(row.kind), record.merged_at, hotfix.policy, drill=record.drill
                ),
                now=now,
            )
        session.commit()
    log.info(
        "hotfix %s#%d owes %s",
        record.repo_full_name,
        record.number,
        ", ".join(FollowUpKind(row.kind).label for row in rows),
    )
    await tracker.sync(services, hotfix, create=True)


def _schedule(session: Session, row: FollowUp, *, remind: datetime, now: datetime) -> None:
    assert row.id is not None
    for kind, at in ((REMIND_JOB, remind), (DUE_JOB, row.due_at)):
        queue.enqueue(
            session,
            kind=kind,
            key=job_key(kind, row.id),
            ref=str(row.id),
            now=now.timestamp(),
            run_at=max(at, now).timestamp(),
        )


async def complete(
    services: Services, hotfix: Hotfix, row: FollowUp, *, done_by: str | None, evidence: str | None
) -> bool:
    """Mark a follow-up done (from open or overdue); False if it already was."""
    assert row.id is not None
    with Session(services.engine, expire_on_commit=False) as session:
        current = queries.follow_up(session, row.id)
        if current is None or current.state not in queries.UNDONE:
            return False
        now = services.clock.now()
        current.state = queries.DONE
        current.done_at = now
        current.done_by = done_by
        current.evidence = evidence
        current.updated_at = now
        session.add(current)
        session.commit()
        session.refresh(current)
    tracker.announce(services, hotfix, current, "done", done_by=done_by, evidence=evidence)
    log.info(
        "%s of %s#%d done by %s",
        FollowUpKind(current.kind).label,
        hotfix.repo,
        hotfix.record.number,
        done_by or "-",
    )
    await tracker.sync(services, hotfix)
    return True


def reschedule(session: Session, row: FollowUp, hotfix: Hotfix, *, now: datetime) -> bool:
    """Move a follow-up's deadline and its jobs to what the current policy says; True if it
    moved. The caller commits."""
    assert row.id is not None
    kind = FollowUpKind(row.kind)
    drill = hotfix.record.drill
    due = due_at(kind, hotfix.record.merged_at, hotfix.policy, drill=drill)
    if due == row.due_at:
        return False
    row.due_at = due
    row.updated_at = now
    session.add(row)
    remind = remind_at(kind, hotfix.record.merged_at, hotfix.policy, drill=drill)
    for job_kind, at in ((REMIND_JOB, remind), (DUE_JOB, due)):
        queue.reschedule(
            session,
            key=job_key(job_kind, row.id),
            run_at=max(at, now).timestamp(),
            now=now.timestamp(),
        )
    return True
