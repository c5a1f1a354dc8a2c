"""Prometheus gauges of the follow-ups still owed, by kind: open, and overdue."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy.engine import Engine

from app.followups import queries
from app.rules.due_dates import FollowUpKind
from app.store.db import read_session

FOLLOW_UPS = Gauge(
    "hotfix_lane_follow_ups",
    "Follow-ups of merged hotfixes not done yet, by kind and state (open, overdue).",
    ["kind", "state"],
)


def refresh(engine: Engine) -> None:
    """Set the gauges from the table (on each scrape: a grouped count on an index).

    A read-only session: a scrape neither waits for intake's write lock nor holds it up.
    """
    with read_session(engine) as session:
        found = queries.counts(session)
    for kind in FollowUpKind:
        for state in queries.UNDONE:
            FOLLOW_UPS.labels(kind.value, state).set(found.get((kind.value, state), 0))
