"""The follow-ups' own reads and writes of the store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.rules.due_dates import FollowUpKind, Obligation
from app.store.models import (
    AuditEvent,
    CleanupRecord,
    FollowUp,
    HotfixRecord,
    Recovery,
    TrackingIssue,
)
from app.store.upsert import insert_ignoring_conflict

OPEN, DONE, OVERDUE, WAIVED = "open", "done", "overdue", "waived"
UNDONE = (OPEN, OVERDUE)


def hotfix(session: Session, hotfix_id: int) -> HotfixRecord | None:
    return session.get(HotfixRecord, hotfix_id)


def hotfix_of_pull_request(session: Session, *, repo: str, number: int) -> HotfixRecord | None:
    return session.exec(
        select(HotfixRecord).where(
            func.lower(col(HotfixRecord.repo_full_name)) == repo.lower(),
            col(HotfixRecord.number) == number,
        )
    ).first()


def hotfix_of_issue(session: Session, *, repo: str, number: int) -> HotfixRecord | None:
    """The hotfix whose tracking issue is ``repo#number``."""
    tracking = session.exec(
        select(TrackingIssue).where(
            func.lower(col(TrackingIssue.repo_full_name)) == repo.lower(),
            col(TrackingIssue.number) == number,
        )
    ).first()
    return None if tracking is None else session.get(HotfixRecord, tracking.hotfix_id)


def follow_ups(session: Session, hotfix_id: int) -> list[FollowUp]:
    """A hotfix's follow-ups, in the order the runbook lists them."""
    order = {kind.value: index for index, kind in enumerate(FollowUpKind)}
    rows = session.exec(select(FollowUp).where(col(FollowUp.hotfix_id) == hotfix_id))
    return sorted(rows, key=lambda row: order.get(row.kind, len(order)))


def follow_up(session: Session, follow_up_id: int) -> FollowUp | None:
    return session.get(FollowUp, follow_up_id)


def add_follow_ups(
    session: Session, *, hotfix_id: int, obligations: Sequence[Obligation], now: datetime
) -> list[FollowUp]:
    """Store the obligations once (a second call adds nothing); returns all of them."""
    insert_ignoring_conflict(
        session.connection(),
        FollowUp,
        [
            {
                "hotfix_id": hotfix_id,
                "kind": item.kind.value,
                "owner": item.owner,
                "due_at": item.due_at,
                "state": OPEN,
                "created_at": now,
                "updated_at": now,
            }
            for item in obligations
        ],
        unique=["hotfix_id", "kind"],
    )
    return follow_ups(session, hotfix_id)


def tracking(session: Session, hotfix_id: int) -> TrackingIssue | None:
    return session.get(TrackingIssue, hotfix_id)


def add_tracking(session: Session, *, hotfix: HotfixRecord, now: datetime) -> None:
    """The hotfix's tracking-issue row, once; its number is set when GitHub made it."""
    insert_ignoring_conflict(
        session.connection(),
        TrackingIssue,
        {
            "hotfix_id": hotfix.id,
            "repo_full_name": hotfix.repo_full_name,
            "state": OPEN,
            "created_at": now,
        },
        unique=["hotfix_id"],
    )


def cleanup(session: Session, cleanup_id: int) -> CleanupRecord | None:
    return session.get(CleanupRecord, cleanup_id)


def hotfixes_cleaned_by(session: Session, record: CleanupRecord) -> list[HotfixRecord]:
    """The hotfixes a merged cleanup PR follows: same repository and incident, and linked."""
    numbers = [int(n) for n in json.loads(record.hotfix_numbers or "[]")]
    if record.incident_id is None or not numbers:
        return []
    return list(
        session.exec(
            select(HotfixRecord).where(
                func.lower(col(HotfixRecord.repo_full_name)) == record.repo_full_name.lower(),
                col(HotfixRecord.number).in_(numbers),
                col(HotfixRecord.incident_id) == record.incident_id,
            )
        )
    )


def undone_in(
    session: Session, *, repo: str | None, org: str
) -> list[tuple[FollowUp, HotfixRecord]]:
    """Follow-ups still open or overdue, of one repository's hotfixes (or the organisation's)."""
    query = (
        select(FollowUp, HotfixRecord)
        .join(HotfixRecord, col(HotfixRecord.id) == col(FollowUp.hotfix_id))
        .where(col(FollowUp.state).in_(UNDONE))
    )
    if repo is not None:
        query = query.where(func.lower(col(HotfixRecord.repo_full_name)) == repo.lower())
    else:
        query = query.where(func.lower(col(HotfixRecord.org)) == org.lower())
    return [(row, record) for row, record in session.exec(query)]


def admin_merges_between(
    session: Session, *, org: str, since: datetime, until: datetime
) -> list[HotfixRecord]:
    """Hotfixes merged past branch protection in the organisation in ``[since, until]``."""
    return list(
        session.exec(
            select(HotfixRecord)
            .where(
                func.lower(col(HotfixRecord.org)) == org.lower(),
                col(HotfixRecord.bypassed).is_(True),
                col(HotfixRecord.merged_at) >= since,
                col(HotfixRecord.merged_at) <= until,
            )
            .order_by(col(HotfixRecord.merged_at))
        )
    )


def audit_events_between(
    session: Session, *, repo: str, since: datetime, until: datetime, limit: int = 50
) -> list[AuditEvent]:
    """Audit-log events of a repository in ``[since, until]``, oldest first, at most ``limit``."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                func.lower(col(AuditEvent.repo)) == repo.lower(),
                col(AuditEvent.created_at) >= since,
                col(AuditEvent.created_at) <= until,
            )
            .order_by(col(AuditEvent.created_at))
            .limit(limit)
        )
    )


def listing(
    session: Session, *, states: Sequence[str] | None = None, incident: str | None = None
) -> list[tuple[FollowUp, HotfixRecord]]:
    """Follow-ups with their hotfix, by due time: what ``followups list/show`` prints."""
    query = select(FollowUp, HotfixRecord).join(
        HotfixRecord, col(HotfixRecord.id) == col(FollowUp.hotfix_id)
    )
    if states:
        query = query.where(col(FollowUp.state).in_(list(states)))
    if incident is not None:
        query = query.where(func.lower(col(HotfixRecord.incident_id)) == incident.lower())
    query = query.order_by(col(FollowUp.due_at), col(FollowUp.id))
    return [(row, record) for row, record in session.exec(query)]


def counts(session: Session) -> dict[tuple[str, str], int]:
    """Open and overdue follow-ups by kind, for the gauges."""
    rows = session.exec(
        select(col(FollowUp.kind), col(FollowUp.state), func.count())
        .where(col(FollowUp.state).in_(UNDONE))
        .group_by(col(FollowUp.kind), col(FollowUp.state))
    ).all()
    return {(kind, state): int(n) for kind, state, n in rows}


def recovery(session: Session, hotfix_id: int) -> Recovery | None:
    """Whether the hotfix's symptom recovered, when the policy asks for it to be verified."""
    return session.get(Recovery, hotfix_id)
