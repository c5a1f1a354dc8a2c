"""The notice outbox: store a notice with its job, send it from the worker, exactly once.

A notice is written in the same transaction as whatever decided it, so it survives any
crash; the ``notice`` job then posts it. Its idempotency key is unique in the table and names
the job, so the same merge or audit event processed twice still yields one message. Slack's
429 becomes a deferred job (Retry-After honoured), a 5xx or an outage a retried one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.clock import Clock
from app.jobs.queue import ClaimedJob, enqueue, requeue
from app.notify.notices import Notice
from app.notify.slack import Notifier
from app.policy.loader import default_policy
from app.policy.model import Policy
from app.settings import Settings
from app.store.models import NoticeRow
from app.store.upsert import insert_ignoring_conflict

log = logging.getLogger(__name__)

NOTICE_JOB = "notice"
PENDING, SENT, STORED = "pending", "sent", "stored"


def audit_channel(settings: Settings, policy: Policy | None = None) -> str:
    """Where notices go: ``HOTFIX_LANE_AUDIT_CHANNEL``, else the policy's ``audit.channel``."""
    if settings.audit_channel:
        return settings.audit_channel
    return (policy or default_policy()).audit.channel


def enqueue_notice(session: Session, *, notice: Notice, channel: str, now: datetime) -> bool:
    """Store ``notice`` for ``channel`` and queue its sending; False if it was stored before.

    Runs in the caller's transaction (commit it): the notice lands with what caused it.
    """
    inserted = insert_ignoring_conflict(
        session.connection(),
        NoticeRow,
        {
            "key": notice.idempotency_key,
            "kind": notice.kind.value,
            "violation": notice.violation,
            "channel": channel,
            "text": notice.text,
            "notice": json.dumps(notice.to_dict()),
            "status": PENDING,
            "created_at": now,
        },
        unique=["key"],
        returning=col(NoticeRow.id),
    )
    if not inserted:
        log.debug("notice %s already in the outbox", notice.idempotency_key)
        return False
    enqueue(
        session,
        kind=NOTICE_JOB,
        key=f"notice:{notice.idempotency_key}",
        ref=notice.idempotency_key,
        now=now.timestamp(),
    )
    log.info(
        "notice %s queued for %s%s",
        notice.idempotency_key,
        channel,
        " (violation)" if notice.violation else "",
    )
    return True


def get_notice(session: Session, *, key: str) -> NoticeRow | None:
    """The outbox row with this idempotency key."""
    return session.exec(select(NoticeRow).where(col(NoticeRow.key) == key)).first()


def list_notices(session: Session, *, limit: int = 50) -> Sequence[NoticeRow]:
    """The newest notices first."""
    query = select(NoticeRow).order_by(col(NoticeRow.id).desc()).limit(limit)
    return list(session.exec(query))


def resend_stored(session: Session, *, now: float) -> int:
    """Queue again the notices kept while no Slack token was set; returns how many."""
    rows = list(session.exec(select(NoticeRow).where(col(NoticeRow.status) == STORED)))
    for row in rows:
        row.status = PENDING
        session.add(row)
        key = f"notice:{row.key}"
        if not requeue(session, key=key, now=now):
            enqueue(session, kind=NOTICE_JOB, key=key, ref=row.key, now=now)
    session.commit()
    return len(rows)


class NoticeRunner:
    """The job runner for ``notice`` jobs: post the stored notice, mark it sent or stored."""

    def __init__(self, *, engine: Engine, notifier: Notifier | None, clock: Clock) -> None:
        self.engine = engine
        self.notifier = notifier
        self.clock = clock

    async def __call__(self, job: ClaimedJob) -> None:
        engine = self.engine
        with Session(engine) as session:
            row = get_notice(session, key=job.ref)
            if row is None or row.status in (SENT, STORED):
                return  # already delivered (a retry after the row was marked)
            channel, stored = row.channel, row.notice
        # No session is open while Slack is called: it can take seconds (pacing, timeouts).
        notifier = self.notifier
        ts = None
        if notifier is None:
            log.info(
                "no HOTFIX_LANE_SLACK_BOT_TOKEN: notice %s kept in the outbox, not sent", job.ref
            )
        else:
            ts = await notifier.send(channel, Notice.from_dict(json.loads(stored)))
        with Session(engine) as session:
            row = get_notice(session, key=job.ref)
            if row is None:
                return
            row.status = SENT if ts is not None else STORED
            row.slack_ts = ts
            row.sent_at = self.clock.now() if ts is not None else None
            session.add(row)
            session.commit()
