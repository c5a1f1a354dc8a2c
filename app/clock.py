"""The one clock: every part of the app reads the time from the ``Clock`` in ``Services``.

Rules never read it (the time is passed in); handlers, the worker, the gateway's caches and the
outbox do, through this object, so a test that moves one clock moves all of them: deadlines,
leases, cache lifetimes and rate-limit windows alike.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """The system's time in UTC. Tests hand in a subclass whose time they set."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(UTC)

    def timestamp(self) -> float:
        """The current time as seconds since the epoch: what the job table stores."""
        return time.time()
