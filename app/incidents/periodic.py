"""Jobs that recur: the runbook's freshness check (daily) and the weekly digest.

Each run is a job keyed by its slot (``runbook-freshness:2026-12-02``), so however many
workers and replicas start, a slot runs once; a run queues the next slot when it is done.
``seed`` queues the next slot at start-up (a no-op when it is queued already). After a long
outage the slot queued before it runs once, late, and queues the next one after now: the
slots missed in between are not replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.jobs import queue

FRESHNESS_JOB = "runbook-freshness"
DIGEST_JOB = "weekly-digest"


def next_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC after ``now``."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def next_monday_morning(now: datetime) -> datetime:
    """The next Monday 09:00 UTC after ``now``: the start of the platform team's week."""
    at = now.astimezone(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    at += timedelta(days=(7 - at.weekday()) % 7)
    return at if at > now else at + timedelta(days=7)


@dataclass(frozen=True)
class Recurring:
    kind: str
    next_slot: Callable[[datetime], datetime]

    def key(self, slot: datetime) -> str:
        return f"{self.kind}:{slot:%Y-%m-%dT%H:%M}"

    def queue_next(self, session: Session, *, now: datetime) -> None:
        """Queue the slot after ``now`` (in the caller's transaction)."""
        slot = self.next_slot(now)
        queue.enqueue(
            session,
            kind=self.kind,
            key=self.key(slot),
            ref=slot.isoformat(),
            now=now.timestamp(),
            run_at=slot.timestamp(),
        )


FRESHNESS = Recurring(FRESHNESS_JOB, next_midnight)
DIGEST = Recurring(DIGEST_JOB, next_monday_morning)
RECURRING = (FRESHNESS, DIGEST)


def seed(engine: Engine, *, now: datetime) -> None:
    """Queue each recurring job's next slot; safe to call from every process at start."""
    with Session(engine) as session:
        for recurring in RECURRING:
            recurring.queue_next(session, now=now)
        session.commit()


def slot_of(ref: str) -> datetime:
    """The slot a recurring job was queued for (its ``ref``)."""
    return datetime.fromisoformat(ref)
