"""The notice outbox: store a notice with its job, send it from the worker, exactly once.

A notice is written in the same transaction as whatever decided it, so it survives any
crash; the ``notice`` job then posts it. Its idempotency key is unique in the table and names
the job, so the same merge or audit event processed twice still yields one message. Slack's
429 becomes a deferred job (Retry-After honoured), a 5xx or an outage a retried one.

A reply (``Thread.REPLY``, ``REPLY_BROADCAST``) goes into the thread of its parent: the
earliest other notice with the same subject in the same channel. It needs the parent's Slack
ts, so it waits (a deferral, no attempt spent) while the parent is still to be sent, is kept
unsent like its parent when that one was kept, and goes top level when there is no parent or
the parent's job is dead (its text names the hotfix, so it reads well on its own).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.clock import Clock
from app.jobs.queue import QUEUED, RUNNING, ClaimedJob, enqueue, requeue
from app.jobs.queue import get as get_job
from app.notify import metrics
from app.notify.metrics import NOTICE_JOB as NOTICE_JOB
from app.notify.notices import Notice, Thread
from app.notify.slack import Notifier
from app.policy.loader import default_policy
from app.policy.model import Policy
from app.retry import Defer, PermanentError
from app.settings import Settings
from app.store.models import NoticeRow
from app.store.upsert import insert_ignoring_conflict

log = logging.getLogger(__name__)

PENDING, SENT, STORED = "pending", "sent", "stored"

# How long a reply waits at a time for its parent to be posted. The parent's job was queued
# first and is due, so it runs within a poll or two (Slack takes one post a second a channel).
PARENT_WAIT = timedelta(seconds=3)


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
            "subject": notice.subject,
            "thread": notice.thread.value,
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
        key=_job_key(notice.idempotency_key),
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


def find_parent(session: Session, *, row: NoticeRow) -> NoticeRow | None:
    """The notice whose thread ``row`` answers: the earliest other notice with its subject in
    its channel (None without a subject, or when ``row`` is the first)."""
    if row.subject is None or row.id is None:
        return None
    query = (
        select(NoticeRow)
        .where(
            col(NoticeRow.subject) == row.subject,
            col(NoticeRow.channel) == row.channel,
            col(NoticeRow.id) < row.id,
        )
        .order_by(col(NoticeRow.id))
        .limit(1)
    )
    return session.exec(query).first()


def list_notices(session: Session, *, limit: int = 50) -> Sequence[NoticeRow]:
    """The newest notices first."""
    query = select(NoticeRow).order_by(col(NoticeRow.id).desc()).limit(limit)
    return list(session.exec(query))


def resend_stored(session: Session, *, now: float) -> int:
    """Queue again the notices kept while no Slack token was set; returns how many."""
    # In the order they were stored, so a thread's first notice is queued before its replies.
    query = select(NoticeRow).where(col(NoticeRow.status) == STORED).order_by(col(NoticeRow.id))
    rows = list(session.exec(query))
    for row in rows:
        row.status = PENDING
        session.add(row)
        key = _job_key(row.key)
        if not requeue(session, key=key, now=now):
            enqueue(session, kind=NOTICE_JOB, key=key, ref=row.key, now=now)
    session.commit()
    return len(rows)


def _job_key(notice_key: str) -> str:
    return f"notice:{notice_key}"


@dataclass(frozen=True)
class _Parent:
    """What a reply needs of its parent once the session is closed."""

    key: str
    slack_ts: str | None  # None: the parent was kept in the outbox, not sent


class NoticeRunner:
    """The job runner for ``notice`` jobs: post the stored notice, mark it sent or stored."""

    def __init__(self, *, engine: Engine, notifier: Notifier | None, clock: Clock) -> None:
        self.engine = engine
        self.notifier = notifier
        self.clock = clock

    async def __call__(self, job: ClaimedJob) -> None:
        engine = self.engine
        notifier = self.notifier
        with Session(engine) as session:
            row = get_notice(session, key=job.ref)
            if row is None or row.status in (SENT, STORED):
                return  # already delivered (a retry after the row was marked)
            channel, notice, thread = row.channel, row.notice, Thread(row.thread)
            parent = None
            if notifier is not None and thread is not Thread.TOP:
                parent = self._parent(session, row)
        # No session is open while Slack is called: it can take seconds (pacing, timeouts).
        ts = None
        if notifier is None:
            log.info(
                "no HOTFIX_LANE_SLACK_BOT_TOKEN: notice %s kept in the outbox, not sent", job.ref
            )
        elif parent is not None and parent.slack_ts is None:
            log.info("notice %s kept in the outbox, as its parent %s was", job.ref, parent.key)
        else:
            try:
                ts = await notifier.send(
                    channel,
                    Notice.from_dict(json.loads(notice)),
                    thread_ts=parent.slack_ts if parent is not None else None,
                    reply_broadcast=thread is Thread.REPLY_BROADCAST,
                )
            except Defer:
                metrics.SLACK_SENDS.labels("rate_limited").inc()
                raise
            except PermanentError:
                metrics.SLACK_SENDS.labels("rejected").inc()
                raise
            except Exception:
                metrics.SLACK_SENDS.labels("unavailable").inc()
                raise
        metrics.SLACK_SENDS.labels("sent" if ts is not None else "stored").inc()
        with Session(engine) as session:
            row = get_notice(session, key=job.ref)
            if row is None:
                return
            row.status = SENT if ts is not None else STORED
            row.slack_ts = ts
            row.sent_at = self.clock.now() if ts is not None else None
            session.add(row)
            session.commit()

    def _parent(self, session: Session, row: NoticeRow) -> _Parent | None:
        """The parent a reply answers; None to post it top level; ``Defer`` while the parent
        is still to be sent."""
        parent = find_parent(session, row=row)
        if parent is None:
            return None
        if parent.status in (SENT, STORED):
            return _Parent(key=parent.key, slack_ts=parent.slack_ts)
        job = get_job(session, key=_job_key(parent.key))
        if parent.status == PENDING and job is not None and job.status in (QUEUED, RUNNING):
            # Not an attempt spent: nothing failed. Wait at least until the parent's job is due.
            due = datetime.fromtimestamp(job.run_at, UTC)
            raise Defer(
                max(self.clock.now(), due) + PARENT_WAIT,
                f"waiting for {parent.key}, the start of its thread",
            )
        # A parent that will not be sent (its job is dead) must not hold the reply back forever.
        log.warning(
            "notice %s posted on its own: its parent %s is %s, its job %s",
            row.key,
            parent.key,
            parent.status,
            job.status if job is not None else "gone",
        )
        return None
