"""The hotfix ledger's rows: record merged hotfixes, find and count them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.store.models import FollowUp, HotfixRecord
from app.store.upsert import insert_ignoring_conflict

# A follow-up whose deadline passed while it was still open (FollowUp.state).
OVERDUE = "overdue"


def record_hotfix(session: Session, *, record: HotfixRecord) -> tuple[HotfixRecord, bool]:
    """Store a merged hotfix once; returns the stored row and whether it was new.

    The unique (repository, number) key makes a redelivered or re-run merge a no-op, even
    when two workers record it at the same moment.
    """
    inserted = insert_ignoring_conflict(
        session.connection(),
        HotfixRecord,
        record.model_dump(exclude={"id"}),
        unique=["repo_full_name", "number"],
        returning=col(HotfixRecord.id),
    )
    row = get_hotfix(session, repo_full_name=record.repo_full_name, number=record.number)
    assert row is not None  # inserted now or before
    return row, bool(inserted)


def get_hotfix(session: Session, *, repo_full_name: str, number: int) -> HotfixRecord | None:
    """The ledger row of one pull request, if it was a merged hotfix."""
    query = select(HotfixRecord).where(
        col(HotfixRecord.repo_full_name) == repo_full_name, col(HotfixRecord.number) == number
    )
    return session.exec(query).first()


def get_hotfix_by_id(session: Session, *, hotfix_id: int) -> HotfixRecord | None:
    """A ledger row by its id (what jobs about a recorded hotfix carry)."""
    return session.get(HotfixRecord, hotfix_id)


def count_merged(
    session: Session,
    *,
    org: str,
    since: datetime,
    until: datetime,
    repo_full_name: str | None = None,
    author: str | None = None,
) -> int:
    """Hotfixes merged in ``[since, until)`` in an organisation (or one repository, or by
    one author), drills left out: the rate limit's and the author quota's count."""
    query = select(func.count()).select_from(HotfixRecord).where(*_merged_in(org, since, until))
    if repo_full_name is not None:
        query = query.where(func.lower(col(HotfixRecord.repo_full_name)) == repo_full_name.lower())
    if author is not None:
        query = query.where(_by(author))
    return int(session.exec(query).one())


def count_overdue_follow_ups(
    session: Session, *, org: str, author: str, since: datetime, until: datetime
) -> int:
    """Overdue follow-ups of the hotfixes ``author`` merged in ``[since, until)`` in an
    organisation: what the author quota's note adds to the author's hotfixes."""
    query = (
        select(func.count())
        .select_from(FollowUp)
        .join(HotfixRecord, col(FollowUp.hotfix_id) == col(HotfixRecord.id))
        .where(col(FollowUp.state) == OVERDUE, *_merged_in(org, since, until), _by(author))
    )
    return int(session.exec(query).one())


def incident_hotfixes(session: Session, *, org: str, incident_id: str) -> Sequence[HotfixRecord]:
    """The hotfixes merged in an organisation under ``incident_id``, oldest merge first."""
    query = (
        select(HotfixRecord)
        .where(
            func.lower(col(HotfixRecord.org)) == org.lower(),
            col(HotfixRecord.incident_id) == incident_id,
        )
        .order_by(col(HotfixRecord.merged_at))
    )
    return list(session.exec(query))


def _merged_in(org: str, since: datetime, until: datetime) -> tuple[ColumnElement[bool], ...]:
    """Hotfixes merged in the range; drills are exercises, never counted against anyone."""
    return (
        func.lower(col(HotfixRecord.org)) == org.lower(),
        col(HotfixRecord.merged_at) >= since,
        col(HotfixRecord.merged_at) < until,
        col(HotfixRecord.drill).is_(False),
    )


def _by(author: str) -> ColumnElement[bool]:
    return func.lower(col(HotfixRecord.author)) == author.lower()


def confirm_by_audit_log(
    session: Session, *, hotfix: HotfixRecord, document_id: str, at: datetime
) -> None:
    """Mark the hotfix's bypass as confirmed by GitHub's audit log (caller commits)."""
    hotfix.audit_document_id = document_id
    hotfix.audit_confirmed_at = at
    session.add(hotfix)


def awaiting_deployment(
    session: Session, *, repo_full_name: str, since: datetime, limit: int
) -> Sequence[HotfixRecord]:
    """A repository's hotfixes merged since ``since`` with no successful deployment yet,
    newest first: those a deployment of the repository may be shipping."""
    query = (
        select(HotfixRecord)
        .where(
            func.lower(col(HotfixRecord.repo_full_name)) == repo_full_name.lower(),
            col(HotfixRecord.merged_at) >= since,
            col(HotfixRecord.deployed_at).is_(None),
        )
        .order_by(col(HotfixRecord.merged_at).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def mark_deployed(
    session: Session, *, hotfix_id: int, at: datetime, environment: str, sha: str
) -> bool:
    """Record the hotfix's first successful deployment; False when one was recorded before
    (a redelivery, a second environment, another worker first). The caller commits."""
    result = session.connection().execute(
        update(HotfixRecord)
        .where(col(HotfixRecord.id) == hotfix_id, col(HotfixRecord.deployed_at).is_(None))
        .values(deployed_at=at, deployment_environment=environment[:255], deployment_sha=sha)
    )
    return result.rowcount > 0


def list_hotfixes(session: Session, *, since: datetime | None = None) -> Sequence[HotfixRecord]:
    """The ledger, oldest merge first."""
    query = select(HotfixRecord).order_by(col(HotfixRecord.merged_at))
    if since is not None:
        query = query.where(col(HotfixRecord.merged_at) >= since)
    return list(session.exec(query))


def quarter_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The calendar quarter containing ``at``: [first day, first day of the next)."""
    first_month = 3 * ((at.month - 1) // 3) + 1
    start = at.replace(month=first_month, day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if first_month == 10
        else start.replace(month=first_month + 3)
    )
    return start, end
