"""The audit log's job runners: the second look at an unmatched override, and a new hotfix.

GitHub's merge webhook and its audit-log event race each other. The override is posted when it
arrives; when no hotfix matches it yet, ``ingest`` schedules an ``audit-correlate`` job
``override_match_minutes`` later; by then a hotfix merge has either claimed the override
(nothing more to do) or it never will, and the override's thread is answered with the
violation, a bypass outside the hotfix lane. When the merge comes first, its
``hotfix-recorded`` job claims the closest unmatched override on its branch already stored.
"""

from __future__ import annotations

import asyncio
import logging
import math

from sqlmodel import Session

from app.auditlog.correlate import CORRELATE_JOB, claim_override_for, settle_override
from app.auditlog.poller import AuditLogPoller
from app.jobs.queue import ClaimedJob
from app.jobs.recurring import Recurring, every
from app.ledger.records import get_hotfix_by_id
from app.policy.loader import default_policy
from app.services import Services
from app.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "CORRELATE_JOB",
    "POLL_JOB",
    "CorrelateRunner",
    "HotfixRecordedRunner",
    "PollRunner",
    "poll_series",
]

POLL_JOB = "audit-log-poll"


def poll_series(settings: Settings) -> Recurring | None:
    """The audit-log poll's recurring slots, when ``AUDIT_LOG_POLL_SECONDS`` asks for them
    (slots are whole minutes: a shorter interval polls every minute)."""
    seconds = settings.audit_log_poll_seconds
    if seconds is None:
        return None
    if seconds <= 0:
        log.warning("HOTFIX_LANE_AUDIT_LOG_POLL_SECONDS must be above 0: audit log not polled")
        return None
    if not settings.github_configured:
        log.warning("HOTFIX_LANE_AUDIT_LOG_POLL_SECONDS is set but the GitHub App is not: no poll")
        return None
    return Recurring(POLL_JOB, every(max(1, math.ceil(seconds / 60))))


class PollRunner:
    """``audit-log-poll``: queue the next slot, then one round over the organisations."""

    def __init__(self, services: Services, series: Recurring) -> None:
        self.services = services
        self.series = series
        # One poller for the worker's life: it remembers which organisations refused, so it
        # says so once rather than every round.
        self._poller: AuditLogPoller | None = None

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        self.series.queue_next_now(services.engine, now=services.clock.now())
        if services.gateway is None:
            return
        if self._poller is None:
            self._poller = AuditLogPoller(
                engine=services.engine,
                settings=services.settings,
                gateway=services.gateway,
                clock=services.clock,
            )
        result = await self._poller.poll_once()
        log.info(
            "audit-log poll: %d stored, %d already known, %d notices",
            result.stored,
            result.duplicates,
            result.notices,
        )


class CorrelateRunner:
    """The job runner for ``audit-correlate`` jobs (the job's ``ref`` is the event's row id)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        event_id = job.row_id()
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
                now=services.clock.now(),
            )
            session.commit()
        return outcome


class HotfixRecordedRunner:
    """The job runner for ``hotfix-recorded`` jobs (``ref``: the ledger row's id).

    Matches an override that arrived before the merge to the hotfix just recorded.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        hotfix_id = job.row_id()
        claimed = await asyncio.to_thread(self._claim, hotfix_id)
        log.info("hotfix %d recorded: %s", hotfix_id, "override matched" if claimed else "-")

    def _claim(self, hotfix_id: int) -> bool:
        services = self.services
        with Session(services.engine) as session:
            hotfix = get_hotfix_by_id(session, hotfix_id=hotfix_id)
            if hotfix is None:
                return False
            claimed = claim_override_for(
                session,
                hotfix=hotfix,
                settings=services.settings,
                policy=default_policy(),
                now=services.clock.now(),
            )
            session.commit()
        return claimed
