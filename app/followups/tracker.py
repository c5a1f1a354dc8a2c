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
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.lookup import policy_or_defaults
from app.policy.model import Policy
from app.retry import PermanentError
from app.rules.due_dates import FollowUpKind
from app.services import Services
from app.store.models import FollowUp, HotfixRecord

log = logging.getLogger(__name__)

CLOSED = "closed"
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


async def ensure_issue(services: Services, hotfix: Hotfix) -> int:
    """The tracking issue's number, opening the issue if it does not exist yet."""
    record = hotfix.record
    assert record.id is not None
    with Session(services.engine, expire_on_commit=False) as session:
        queries.add_tracking(session, hotfix=record, now=services.clock.now())
        session.commit()
        row = queries.tracking(session, record.id)
        number = row.number if row is not None else None
    if number is not None:
        return number
    title = body.title(record)
    number = await hotfix.gateway.find_own_issue(
        hotfix.installation_id, hotfix.repo, title=title, label=body.LABEL
    )
    if number is None:
        text = render(services, hotfix)
        number = await hotfix.gateway.create_issue(
            hotfix.installation_id, hotfix.repo, title=title, body=text, labels=[body.LABEL]
        )
        log.info("tracking issue %s#%d opened for hotfix #%d", hotfix.repo, number, record.number)
    with Session(services.engine, expire_on_commit=False) as session:
        row = queries.tracking(session, record.id)
        if row is not None:
            row.number = number
            session.add(row)
            session.commit()
    return number


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
    return body.render(record, rows, window, review_team=hotfix.review_team)


async def sync(services: Services, hotfix: Hotfix) -> None:
    """Bring the issue up to date; close it with a summary once every follow-up is done."""
    record = hotfix.record
    assert record.id is not None
    number = await ensure_issue(services, hotfix)
    text = render(services, hotfix)
    digest = hashlib.sha256(text.encode()).hexdigest()
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
            notice=notice,
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


async def comment(services: Services, hotfix: Hotfix, text: str, *, marker: str) -> None:
    """Comment on the tracking issue once (``marker`` keeps a retry from posting it twice)."""
    number = await ensure_issue(services, hotfix)
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
            notice=notice,
            channel=audit_channel(services.settings, hotfix.policy),
            now=services.clock.now(),
        )
        session.commit()
