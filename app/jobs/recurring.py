"""Jobs that recur, once across every process: each run is a job keyed by its slot.

A slot is a time (``runbook-freshness:2026-12-02T00:00``): however many workers and replicas
start, the queue's unique key lets one job per slot in, and the worker that claims it runs
it. A run queues the next slot before its work (so a run that fails for good does not end
the series); ``seed`` queues each series' next slot at start-up, a no-op when it is queued.
After a long outage the slot queued before it runs once, late, and queues the next one after
now: the slots missed in between are not replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.jobs import queue


def next_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC after ``now``."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def next_monday_morning(now: datetime) -> datetime:
    """The next Monday 09:00 UTC after ``now``: the start of the platform team's week."""
    at = now.astimezone(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    at += timedelta(days=(7 - at.weekday()) % 7)
    return at if at > now else at + timedelta(days=7)


def every(minutes: int) -> Callable[[datetime], datetime]:
    """Slots on the hour's ``minutes``-minute marks (UTC)."""

    def next_slot(now: datetime) -> datetime:
        at = now.astimezone(UTC).replace(second=0, microsecond=0)
        at -= timedelta(minutes=at.minute % minutes)
        return at + timedelta(minutes=minutes)

    return next_slot


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

    def queue_next_now(self, engine: Engine, *, now: datetime) -> None:
        """``queue_next`` in a transaction of its own: what a run does before its work."""
        with Session(engine) as session:
            self.queue_next(session, now=now)
            session.commit()


def seed(engine: Engine, series: Iterable[Recurring], *, now: datetime) -> None:
    """Queue each series' next slot; safe to call from every process at start."""
    with Session(engine) as session:
        for recurring in series:
            recurring.queue_next(session, now=now)
        session.commit()


def slot_of(ref: str) -> datetime:
    """The slot a recurring job was queued for (its ``ref``)."""
    return datetime.fromisoformat(ref)
