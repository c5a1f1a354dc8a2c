"""Runbook step 6: re-query the symptom metric after the hotfix shipped; confirm recovery.

Optional per repository: the policy's ``verify.query`` (PromQL) with a threshold, a
comparison and a window, asked of Prometheus's HTTP API (``HOTFIX_LANE_PROMETHEUS_URL``).

One ``verify-recovery`` job per hotfix, in the durable queue, runs it all:

- at the merge it waits (``waiting``) for a successful deployment, at most one window;
- a deployment starts the window (``verifying``) and runs the job at once; with none reported
  within a window of the merge, the window starts when the wait ends;
- each run asks Prometheus once: every series across the threshold is ``recovered``; else
  it runs again after ``interval_seconds``, until the window ends: ``not_recovered`` when
  Prometheus gave values that never crossed, ``unverified`` when it never gave one
  (unreachable, a bad query, no series), said plainly.

The verdict answers in the incident's thread; a hotfix that did not recover (or could not be
verified) also goes to the audit channel: "roll back the hotfix; do not chain another".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlmodel import Session

from app.incidents.policy import policy_for
from app.incidents.prometheus import Prometheus, PrometheusError
from app.jobs import queue
from app.jobs.queue import ClaimedJob
from app.ledger import incidents
from app.ledger.merge import refresh_tracking
from app.ledger.records import get_hotfix_by_id
from app.notify import notices
from app.notify.notices import Notice
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.model import Policy
from app.retry import Defer
from app.rules.recovery import crossed, format_value, render_query
from app.services import Services
from app.settings import Settings
from app.store.models import HotfixRecord, Recovery
from app.store.upsert import insert_ignoring_conflict

log = logging.getLogger(__name__)

VERIFY_JOB = "verify-recovery"
WAITING, VERIFYING = "waiting", "verifying"
RECOVERED, NOT_RECOVERED, UNVERIFIED = "recovered", "not_recovered", "unverified"
CONCLUDED = frozenset({RECOVERED, NOT_RECOVERED, UNVERIFIED})


def job_key(hotfix_id: int) -> str:
    return f"{VERIFY_JOB}:{hotfix_id}"


def plan(
    session: Session, record: HotfixRecord, policy: Policy, *, settings: Settings, now: datetime
) -> bool:
    """At the merge: record that recovery will be verified and schedule its job; False when
    the policy does not ask for it (or it was planned before). The caller commits."""
    query = policy.verify.query
    if query is None or settings.prometheus_url is None or record.id is None:
        return False
    window = timedelta(minutes=policy.verify.window_minutes)
    if record.deployed_at is not None:
        state, started, deadline = VERIFYING, record.deployed_at, record.deployed_at + window
        run_at = now
    else:
        state, started, deadline = WAITING, None, record.merged_at + window
        run_at = max(deadline, now)
    inserted = insert_ignoring_conflict(
        session.connection(),
        Recovery,
        {
            "hotfix_id": record.id,
            "state": state,
            "query": render_query(query, repo=record.repo_full_name, sha=_sha(record)),
            "started_at": started,
            "deadline": deadline,
            "checks": 0,
            "created_at": now,
            "updated_at": now,
        },
        unique=["hotfix_id"],
        returning=Recovery.hotfix_id,
    )
    if not inserted:
        return False
    queue.enqueue(
        session,
        kind=VERIFY_JOB,
        key=job_key(record.id),
        ref=str(record.id),
        now=now.timestamp(),
        run_at=run_at.timestamp(),
        # Each run is one query; the window, not the attempts, bounds it.
        max_attempts=20,
    )
    return True


def deployed(session: Session, record: HotfixRecord, policy: Policy, *, now: datetime) -> None:
    """The hotfix was deployed: its window starts now, and its job runs at once. A window
    already started from the merge (no deployment came in time) starts again: the symptom is
    judged from when the fix is live, not before."""
    assert record.id is not None and record.deployed_at is not None
    row = session.get(Recovery, record.id)
    if row is None or row.state in CONCLUDED:
        return
    if row.started_at is not None and row.started_at >= record.deployed_at:
        return
    row.state = VERIFYING
    row.started_at = record.deployed_at
    row.deadline = record.deployed_at + timedelta(minutes=policy.verify.window_minutes)
    row.updated_at = now
    session.add(row)
    queue.requeue(session, key=job_key(record.id), now=now.timestamp(), running=False)


@dataclass(frozen=True)
class _Reading:
    """What one question to Prometheus gave: values, or why there are none."""

    values: tuple[float, ...] | None
    error: str | None


class VerifyRunner:
    """``verify-recovery``: ask Prometheus once; conclude, or run again within the window."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        hotfix_id = job.row_id()
        with Session(services.engine, expire_on_commit=False) as session:
            row = session.get(Recovery, hotfix_id)
            record = get_hotfix_by_id(session, hotfix_id=hotfix_id)
        if row is None or record is None or row.state in CONCLUDED:
            return
        policy = await policy_for(services, record.installation_id, record.repo_full_name)
        now = services.clock.now()
        window = timedelta(minutes=policy.verify.window_minutes)
        if row.state == WAITING and record.deployed_at is not None:
            # Deployed while this job was being planned: the window starts from it.
            start = record.deployed_at
            row = self._update(
                hotfix_id, state=VERIFYING, started_at=start, deadline=start + window
            )
        if row.state == WAITING:
            if now < row.deadline:
                raise Defer(row.deadline, "waiting for the hotfix's deployment")
            # No deployment reported within a window of the merge: verify from now on.
            row = self._update(hotfix_id, state=VERIFYING, started_at=now, deadline=now + window)
        reading = await self._read(row)
        now = services.clock.now()
        values = reading.values
        verify = policy.verify
        if values is not None and crossed(values, verify.threshold, verify.comparison):
            self._conclude(record, policy, RECOVERED, values=values, error=None, now=now)
            return
        if now >= row.deadline:
            had_values = values is not None or row.last_value is not None
            state = NOT_RECOVERED if had_values else UNVERIFIED
            self._conclude(record, policy, state, values=values, error=reading.error, now=now)
            return
        self._update(
            hotfix_id,
            last_value=_shown(values) if values is not None else row.last_value,
            last_error=reading.error,
            checks=row.checks + 1,
            checked_at=now,
        )
        next_at = min(now + timedelta(seconds=verify.interval_seconds), row.deadline)
        reason = reading.error or f"not recovered yet: {_shown(values or ())}"
        raise Defer(next_at, reason)

    async def _read(self, row: Recovery) -> _Reading:
        settings = self.services.settings
        if settings.prometheus_url is None:
            return _Reading(None, "HOTFIX_LANE_PROMETHEUS_URL is not set")
        token = settings.prometheus_token
        try:
            async with Prometheus(
                settings.prometheus_url, token.get_secret_value() if token else None
            ) as prometheus:
                values = await prometheus.instant(row.query)
        except (PrometheusError, ValueError) as exc:  # ValueError: a URL or token unusable
            log.warning("verify of hotfix %d: %s", row.hotfix_id, exc)
            return _Reading(None, str(exc))
        return _Reading(values, None)

    def _update(self, hotfix_id: int, **values: object) -> Recovery:
        with Session(self.services.engine, expire_on_commit=False) as session:
            row = session.get(Recovery, hotfix_id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = self.services.clock.now()
            session.add(row)
            session.commit()
            session.refresh(row)
            return row

    def _conclude(
        self,
        record: HotfixRecord,
        policy: Policy,
        state: str,
        *,
        values: tuple[float, ...] | None,
        error: str | None,
        now: datetime,
    ) -> None:
        """Store the verdict, queue what says it, and have the tracking issue rewritten: one
        transaction, so a crash never leaves a verdict unsaid or said twice."""
        assert record.id is not None
        settings = self.services.settings
        with Session(self.services.engine, expire_on_commit=False) as session:
            row = session.get(Recovery, record.id)
            if row is None or row.state in CONCLUDED:
                return
            shown = _shown(values) if values is not None else row.last_value
            row.state = state
            row.last_value = shown
            row.last_error = error
            row.checks += 1
            row.checked_at = now
            row.concluded_at = now
            row.updated_at = now
            session.add(row)
            for notice, channel in _verdict_notices(record, policy, row, settings):
                enqueue_notice(
                    session,
                    notice=notices.drilled(notice, record.drill),
                    channel=channel,
                    now=now,
                )
            refresh_tracking(session, record.id, reason=state, now=now)
            session.commit()
        log.info(
            "hotfix %s#%d: %s (last value %s)",
            record.repo_full_name,
            record.number,
            state,
            shown or "none",
        )


class _PullRef(TypedDict):
    incident_id: str | None
    repo: str
    number: int
    url: str


def _verdict_notices(
    record: HotfixRecord, policy: Policy, row: Recovery, settings: Settings
) -> list[tuple[Notice, str]]:
    """The incident thread's reply; and for a hotfix that did not (or could not be shown to)
    recover, the audit channel's notice too."""
    verify = policy.verify
    pr = _PullRef(
        incident_id=record.incident_id,
        repo=record.repo_full_name,
        number=record.number,
        url=record.url or f"{record.repo_full_name}#{record.number}",
    )
    thread = incidents.hotfix_subject(record)
    status = incidents.status_channel(policy)
    audit = audit_channel(settings, policy)
    threshold = format_value(verify.threshold)
    if row.state == RECOVERED:
        notice = notices.recovered(
            subject=thread,
            value=row.last_value or "?",
            comparison=verify.comparison,
            threshold=threshold,
            **pr,
        )
        return [(notice, status)]
    if row.state == NOT_RECOVERED:
        return [
            (
                notices.not_recovered(
                    subject=subject,
                    value=row.last_value,
                    comparison=verify.comparison,
                    threshold=threshold,
                    window_minutes=verify.window_minutes,
                    **pr,
                ),
                channel,
            )
            for subject, channel in ((thread, status), (None, audit))
        ]
    return [
        (
            notices.recovery_unverified(
                subject=subject,
                reason=row.last_error or "Prometheus gave no value",
                window_minutes=verify.window_minutes,
                **pr,
            ),
            channel,
        )
        for subject, channel in ((thread, status), (None, audit))
    ]


def _sha(record: HotfixRecord) -> str:
    return record.merge_sha or record.head_sha


def _shown(values: tuple[float, ...]) -> str:
    """The value as the notices and the tracking issue show it: the first three series."""
    if not values:
        return "no data"
    shown = ", ".join(format_value(value) for value in values[:3])
    return shown if len(values) <= 3 else f"{shown} (+{len(values) - 3} series)"
