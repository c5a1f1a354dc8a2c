"""The one test clock: a ``Clock`` whose time tests set and move instead of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.clock import Clock

START = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)


class FakeClock(Clock):
    """Stands still until told: ``advance(minutes=5)`` or ``set(when)``.

    Handed to the app as its ``Clock``, it drives intake, the worker, the gateway's caches and
    every deadline at once; ``now`` may also be assigned directly.
    """

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def timestamp(self) -> float:
        return self.current.timestamp()

    def __call__(self) -> datetime:
        # What the gateway and the Slack client take: a function returning the time.
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)
