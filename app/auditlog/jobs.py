"""The ``audit-correlate`` job: the second look at a policy override that matched no hotfix.

GitHub's merge webhook and its audit-log event race each other. When the override arrives
first, ``app.auditlog.ingest.ingest`` schedules this job ``override_match_minutes`` later; by then
a hotfix merge has either claimed the override (nothing more to do) or it never will, and the
override is announced as a bypass outside the hotfix lane.
"""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import Session

from app.services import Services
from app.retry import PermanentError
from app.jobs.queue import ClaimedJob
from app.auditlog.ingest import CORRELATE_JOB, settle_override
from app.policy.loader import default_policy

log = logging.getLogger(__name__)

__all__ = ["CORRELATE_JOB", "OverrideCheck"]


class OverrideCheck:
    """The job runner for ``audit-correlate`` jobs (the job's ``ref`` is the event's row id)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        try:
            event_id = int(job.ref)
        except ValueError as exc:
            raise PermanentError(f"{CORRELATE_JOB}: ref {job.ref!r} is not an event id") from exc
        outcome = await asyncio.to_thread(self._settle, event_id)
        log.info("policy override event %d: %s", event_id, outcome)

    def _settle(self, event_id: int) -> str:
        services = self.services
        with Session(services.engine) as session:
            outcome = settle_override(
                session,
                event_id=event_id,
                settings=services.settings,
                # Audit events are organisation-wide: the defaults (bypass team, match window)
                # apply, as at intake.
                policy=default_policy(),
                now=services.clock(),
            )
            session.commit()
        return outcome
