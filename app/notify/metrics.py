"""The outbox's Prometheus metrics: Slack sends by outcome, and notices waiting to be sent."""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.store.db import read_session
from app.store.models import Job

# The outbox's job kind (app.notify.outbox imports this module).
NOTICE_JOB = "notice"

SLACK_SENDS = Counter(
    "hotfix_lane_slack_sends_total",
    "Notices handed to Slack, by outcome: sent, stored (no token), rate_limited, unavailable, "
    "rejected.",
    ["outcome"],
)
OUTBOX_DEPTH = Gauge(
    "hotfix_lane_outbox_depth", "Notices stored and not sent yet (pending in the outbox)."
)


def refresh(engine: Engine) -> None:
    """Set the outbox gauge (when /metrics is scraped) from the notice jobs still to run: a
    small range of the job table's claim index, where the notice table has none on status."""
    with read_session(engine) as session:
        pending = session.exec(
            select(func.count())
            .select_from(Job)
            .where(col(Job.status).in_(("queued", "running")), col(Job.kind) == NOTICE_JOB)
        ).one()
    OUTBOX_DEPTH.set(int(pending))
