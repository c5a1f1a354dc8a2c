"""The tracking issue on GitHub: opened once, rewritten as follow-ups change, closed at the end.

Opened exactly once per hotfix, across redeliveries, crashes and replicas: the store holds
one row per hotfix, and before creating the issue the App looks for one it opened earlier
with the same title and label (a job that died after GitHub created the issue, before the
number was stored). The body is only sent when it changed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from app.followups import body, queries
from app.github.gateway import GitHubGateway
from app.jobs import queue
from app.ledger.merge import RECORDED_JOB
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.lookup import policy_or_defaults
from app.policy.model import Policy
from app.retry import Defer, PermanentError
from app.rules.due_dates import FollowUpKind
from app.services import Services
from app.store.models import FollowUp, HotfixRecord

log = logging.getLogger(__name__)

CLOSED = "closed"
# How long a comment waits for the job that opens the tracking issue.
OPENER_WAIT = timedelta(seconds=30)
# With no recorded opening time, the audit window starts this long before the merge.
DEFAULT_WINDOW = timedelta(hours=1)


@dataclass
class Hotfix:
    """A merged hotfix as the follow-ups handle it: its row, its GitHub access, its policy."""

    record: HotfixRecord
    installation_id: int
    gateway: GitHubGateway
    policy: Policy

    @property
    def repo(self) -> str:
        return self.record.repo_full_name

    @property
    def review_team(self) -> str:
        return f"{self.record.org}/{self.policy.teams.review}"

    @property
    def link(self) -> str:
        return self.record.url or f"{self.repo}#{self.record.number}"


async def load(services: Services, hotfix_id: int) -> Hotfix | None:
    """The hotfix with its policy; None when there is no such row."""
    with Session(services.engine, expire_on_commit=False) as session:
        record = queries.hotfix(session, hotfix_id)
    if record is None:
        return None
    if services.gateway is None:
        raise PermanentError("GitHub App not configured: replay this job once it is")
    if record.installation_id is None:
        raise PermanentError(f"hotfix {record.repo_full_name}#{record.number} has no installation")
    policy = await policy_or_defaults(
        services.gateway, record.installation_id, record.repo_full_name, None
    )
    return Hotfix(record, record.installation_id, services.gateway, policy)


async def ensure_issue(services: Services, hotfix: Hotfix, *, create: bool = False) -> int | None:
    """The tracking issue's number; with ``create``, opening the issue if there is none yet.

    Only the ``hotfix-recorded`` job creates (one job per hotfix: two creators at once would
    open two issues); everything else waits for it (see ``comment``).
    """
    record = hotfix.record
    assert record.id is not None
    with Session(services.engine, expire_on_commit=False) as session:
        queries.add_tracking(session, hotfix=record, now=services.clock.now())
        session.commit()
        row = queries.tracking(session, record.id)
        number = row.number if row is not None else None
    if number is not None or not create:
        return number
    title = body.title(record)
    digest = None
    number = await hotfix.gateway.find_own_issue(
        hotfix.installation_id, hotfix.repo, title=title, label=body.LABEL
    )
    if number is None:
        text = render(services, hotfix)
        number = await hotfix.gateway.create_issue(
            hotfix.installation_id, hotfix.repo, title=title, body=text, labels=[body.LABEL]
        )
        digest = _digest(text)
        log.info("tracking issue %s#%d opened for hotfix #%d", hotfix.repo, number, record.number)
    with Session(services.engine, expire_on_commit=False) as session:
        row = queries.tracking(session, record.id)
        if row is not None:
            row.number = number
            row.body_digest = digest  # an adopted issue's body is rewritten once
            session.add(row)
            session.commit()
    return number


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def render(services: Services, hotfix: Hotfix) -> str:
    record = hotfix.record
    assert record.id is not None
    until = record.merged_at
    since = record.opened_at or until - DEFAULT_WINDOW
    with Session(services.engine, expire_on_commit=False) as session:
        rows = queries.follow_ups(session, record.id)
        window = body.AuditWindow(
            since=since,
            until=until,
            admin_merges=queries.admin_merges_between(
                session, org=record.org, since=since, until=until
            ),
            events=queries.audit_events_between(
                session, repo=record.repo_full_name, since=since, until=until
            ),
        )
        recovery = queries.recovery(session, record.id)
    return body.render(record, rows, window, review_team=hotfix.review_team, recovery=recovery)


async def sync(services: Services, hotfix: Hotfix, *, create: bool = False) -> None:
    """Bring the issue up to date; close it with a summary once every follow-up is done.

    Before the issue exists there is nothing to update: it is opened with the state of then.
    """
    record = hotfix.record
    assert record.id is not None
    number = await ensure_issue(services, hotfix, create=create)
    if number is None:
        return
    text = render(services, hotfix)
    digest = _digest(text)
    with Session(services.engine, expire_on_commit=False) as session:
        row = queries.tracking(session, record.id)
        rows = queries.follow_ups(session, record.id)
        known = row.body_digest if row is not None else None
        closed = row is not None and row.state == CLOSED
    if known != digest:
        await hotfix.gateway.update_issue(hotfix.installation_id, hotfix.repo, number, body=text)
        _remember(services, record.id, digest=digest)
    if closed or not rows or any(r.state != queries.DONE for r in rows):
        return
    await hotfix.gateway.comment_once(
        hotfix.installation_id, hotfix.repo, number, body.summary(record, rows), marker="complete"
    )
    await hotfix.gateway.update_issue(
        hotfix.installation_id, hotfix.repo, number, state="closed", state_reason="completed"
    )
    with Session(services.engine, expire_on_commit=False) as session:
        notice = notices.follow_ups_complete(
            repo=hotfix.repo, number=record.number, incident_id=record.incident_id, url=hotfix.link
        )
        enqueue_notice(
            session,
            notice=notices.drilled(notice, hotfix.record.drill),
            channel=audit_channel(services.settings, hotfix.policy),
            now=services.clock.now(),
        )
        session.commit()
    _remember(services, record.id, closed=True)
    log.info(
        "every follow-up of %s#%d is done; issue #%d closed", hotfix.repo, record.number, number
    )


def _remember(
    services: Services, hotfix_id: int, *, digest: str | None = None, closed: bool = False
) -> None:
    with Session(services.engine, expire_on_commit=False) as session:
        row = queries.tracking(session, hotfix_id)
        if row is None:
            return
        if digest is not None:
            row.body_digest = digest
        if closed:
            row.state = CLOSED
            row.closed_at = services.clock.now()
        session.add(row)
        session.commit()


async def refresh(services: Services, hotfix: Hotfix) -> None:
    """Rewrite the issue for a change made elsewhere (a deployment, a recovery verdict);
    while the job that opens it is still to run, wait for it, as ``comment`` does."""
    if await ensure_issue(services, hotfix) is None:
        _wait_for_opener(services, hotfix)
        return
    await sync(services, hotfix)


def _wait_for_opener(services: Services, hotfix: Hotfix) -> None:
    """``Defer`` while the ``hotfix-recorded`` job that opens the issue is queued or running."""
    assert hotfix.record.id is not None
    with Session(services.engine, expire_on_commit=False) as session:
        opener = queue.get(session, key=f"{RECORDED_JOB}:{hotfix.record.id}")
    if opener is not None and opener.status in (queue.QUEUED, queue.RUNNING):
        raise Defer(services.clock.now() + OPENER_WAIT, "the tracking issue is not open yet")


async def comment(services: Services, hotfix: Hotfix, text: str, *, marker: str) -> None:
    """Comment on the tracking issue once (``marker`` keeps a retry from posting it twice).

    Until the issue is opened the job waits for it (``Defer``); when the job that opens it
    has given up (see its error with ``deliveries``/the job table), the comment is skipped:
    the Slack notice still says it.
    """
    number = await ensure_issue(services, hotfix)
    if number is None:
        _wait_for_opener(services, hotfix)
        log.warning(
            "no tracking issue for %s#%d; comment %s not posted",
            hotfix.repo,
            hotfix.record.number,
            marker,
        )
        return
    await hotfix.gateway.comment_once(
        hotfix.installation_id, hotfix.repo, number, text, marker=marker
    )


def announce(
    services: Services, hotfix: Hotfix, row: FollowUp, event: str, **extra: str | None
) -> None:
    """Queue the Slack notice of a follow-up event (reminder, overdue, done)."""
    record, label = hotfix.record, FollowUpKind(row.kind).label
    if event == "done":
        notice = notices.follow_up_done(
            repo=hotfix.repo,
            number=record.number,
            incident_id=record.incident_id,
            follow_up=label,
            done_by=extra.get("done_by"),
            evidence=extra.get("evidence"),
            url=hotfix.link,
        )
    else:
        build = notices.follow_up_overdue if event == "overdue" else notices.follow_up_reminder
        notice = build(
            repo=hotfix.repo,
            number=record.number,
            incident_id=record.incident_id,
            follow_up=label,
            owner=row.owner,
            due_at=row.due_at,
            url=hotfix.link,
        )
    with Session(services.engine, expire_on_commit=False) as session:
        enqueue_notice(
            session,
            notice=notices.drilled(notice, hotfix.record.drill),
            channel=audit_channel(services.settings, hotfix.policy),
            now=services.clock.now(),
        )
        session.commit()
