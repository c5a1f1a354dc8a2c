"""The incident loop's job runners: a hotfix recorded, recovery verified, the recurring checks.

- ``hotfix-recorded``: when the policy asks for it, plan the verification of recovery.
- ``verify-recovery``: ``recovery.VerifyRunner``.
- ``runbook-freshness`` (daily): "stale after 90 days without exercise". An organisation with
  no hotfix or drill merged for ``runbook.stale_after_days`` is told, in the audit channel,
  to run a drill; again every ``REMIND_EVERY_DAYS`` while it stays stale.
- ``weekly-digest`` (Mondays): the week's figures per organisation, against "the hotfix
  became normal".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from app.incidents import periodic, recovery
from app.incidents.policy import policy_for
from app.incidents.recovery import VERIFY_JOB, VerifyRunner
from app.jobs.queue import ClaimedJob
from app.jobs.recurring import slot_of
from app.ledger.last_worked import any_repository, first_seen, known_orgs, last_completed
from app.ledger.records import get_hotfix_by_id
from app.ledger.review import build_review, review_orgs
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.loader import default_policy
from app.policy.model import Policy
from app.services import Services

log = logging.getLogger(__name__)

__all__ = [
    "VERIFY_JOB",
    "DigestRunner",
    "FreshnessRunner",
    "HotfixRecordedRunner",
    "VerifyRunner",
]

REMIND_EVERY_DAYS = 30
WEEK = timedelta(days=7)


class HotfixRecordedRunner:
    """``hotfix-recorded``: plan the hotfix's verification of recovery (step 6)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        with Session(services.engine, expire_on_commit=False) as session:
            record = get_hotfix_by_id(session, hotfix_id=job.row_id())
        if record is None or services.settings.prometheus_url is None:
            return
        policy = await policy_for(services, record.installation_id, record.repo_full_name)
        with Session(services.engine, expire_on_commit=False) as session:
            if recovery.plan(
                session, record, policy, settings=services.settings, now=services.clock.now()
            ):
                session.commit()
                log.info("recovery of %s#%d will be verified", record.repo_full_name, record.number)


class FreshnessRunner:
    """``runbook-freshness``: announce each organisation whose runbook went stale."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        now = services.clock.now()
        periodic.FRESHNESS.queue_next_now(services.engine, now=now)
        with Session(services.engine, expire_on_commit=False) as session:
            orgs = known_orgs(session)
        stale = [found for org in orgs if (found := await self._stale(org, now)) is not None]
        with Session(services.engine) as session:
            for notice, channel in stale:
                enqueue_notice(session, notice=notice, channel=channel, now=now)
            session.commit()

    async def _stale(self, org: str, now: datetime) -> tuple[notices.Notice, str] | None:
        services = self.services
        with Session(services.engine, expire_on_commit=False) as session:
            last = last_completed(session, org=org)
            since = last.merged_at if last is not None else first_seen(session, org=org)
            where = any_repository(session, org=org) if last is None else None
        if since is None:
            return None
        if last is not None:
            policy = await _org_policy(services, org, last.installation_id, last.repo_full_name)
        elif where is not None:
            policy = await _org_policy(services, org, where.installation_id, where.repo_full_name)
        else:
            policy = default_policy()
        days = (now - since).days
        limit = policy.runbook.stale_after_days
        if days < limit:
            return None
        notice = notices.runbook_stale(
            org=org,
            days=days,
            stale_after_days=limit,
            last_incident=last.incident_id if last is not None else None,
            last_at=last.merged_at if last is not None else None,
            # Once when it goes stale, then every REMIND_EVERY_DAYS until a drill merges.
            key_suffix=f"{since:%Y-%m-%d}:{(days - limit) // REMIND_EVERY_DAYS}",
            drill_label=policy.drill.label,
        )
        log.info("runbook of %s stale: nothing merged for %d days", org, days)
        return notice, audit_channel(services.settings, policy)


class DigestRunner:
    """``weekly-digest``: the past week's figures, one message per organisation."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        periodic.DIGEST.queue_next_now(services.engine, now=services.clock.now())
        until = slot_of(job.ref)
        since = until - WEEK
        with Session(services.engine, expire_on_commit=False) as session:
            reviews = [
                (
                    build_review(session, since=since, until=until, org=org),
                    last_completed(session, org=org),
                )
                for org in review_orgs(session, since=since, until=until)
            ]
        digests = []
        for review, last in reviews:
            assert review.org is not None
            policy = (
                await _org_policy(services, review.org, last.installation_id, last.repo_full_name)
                if last is not None
                else default_policy()
            )
            notice = notices.weekly_digest(
                org=review.org,
                since=since,
                until=until,
                hotfixes=review.hotfixes,
                drills=review.drills,
                by_repository=review.by_repository,
                by_author=review.by_author,
                on_time=review.follow_ups_on_time,
                overdue=review.follow_ups_overdue,
                open=review.follow_ups_open,
                rate_limit_trips=review.rate_limit_trips,
            )
            digests.append((notice, audit_channel(services.settings, policy)))
        now = services.clock.now()
        with Session(services.engine) as session:
            for notice, channel in digests:
                enqueue_notice(session, notice=notice, channel=channel, now=now)
            session.commit()


async def _org_policy(
    services: Services, org: str, installation_id: int | None, repo: str
) -> Policy:
    """The organisation's policy as one of its repositories reads it; the defaults when
    GitHub cannot tell (an uninstalled App, an outage), so one organisation never holds up
    every other's announcement."""
    try:
        return await policy_for(services, installation_id, repo)
    except Exception as exc:
        log.warning("policy of %s unreadable (%s); its defaults are used", org, exc)
        return default_policy()
