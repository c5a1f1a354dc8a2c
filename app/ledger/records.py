"""The hotfix ledger's rows: record merged hotfixes, find and count them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, update
from sqlalchemy import select as select_columns
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
    query = _count_merged_query(by_repo=repo_full_name is not None, by_author=author is not None)
    params = {
        "org": org.lower(),
        "since": since,
        "until": until,
        "repo": (repo_full_name or "").lower(),
        "author": (author or "").lower(),
    }
    return int(session.connection().execute(query, params).scalar_one())


def count_overdue_follow_ups(
    session: Session, *, org: str, author: str, since: datetime, until: datetime
) -> int:
    """Overdue follow-ups of the hotfixes ``author`` merged in ``[since, until)`` in an
    organisation: what the author quota's note adds to the author's hotfixes."""
    params = {"org": org.lower(), "since": since, "until": until, "author": author.lower()}
    return int(session.connection().execute(_COUNT_OVERDUE, params).scalar_one())


def incident_hotfixes(session: Session, *, org: str, incident_id: str) -> Sequence[Row[Any]]:
    """The hotfixes merged in an organisation under ``incident_id``, oldest merge first:
    their ``repo_full_name``, ``number`` and ``title``."""
    params = {"org": org.lower(), "incident_id": incident_id}
    return list(session.connection().execute(_INCIDENT_HOTFIXES, params))


# Every evaluation of a hotfix runs the reads above: they are built once, with their values
# bound at each call, and run as plain statements (no ORM).
_HOTFIXES = HotfixRecord.__table__  # type: ignore[attr-defined]
_FOLLOW_UPS = FollowUp.__table__  # type: ignore[attr-defined]


def _merged_in() -> tuple[ColumnElement[bool], ...]:
    """Hotfixes merged in the range; drills are exercises, never counted against anyone."""
    return (
        func.lower(_HOTFIXES.c.org) == bindparam("org"),
        _HOTFIXES.c.merged_at >= bindparam("since"),
        _HOTFIXES.c.merged_at < bindparam("until"),
        _HOTFIXES.c.drill.is_(False),
    )


def _by_author() -> ColumnElement[bool]:
    return func.lower(_HOTFIXES.c.author) == bindparam("author")


@functools.cache
def _count_merged_query(*, by_repo: bool, by_author: bool) -> Select[Any]:
    query = select_columns(func.count()).select_from(_HOTFIXES).where(*_merged_in())
    if by_repo:
        query = query.where(func.lower(_HOTFIXES.c.repo_full_name) == bindparam("repo"))
    if by_author:
        query = query.where(_by_author())
    return query


_COUNT_OVERDUE = (
    select_columns(func.count())
    .select_from(_FOLLOW_UPS)
    .join(_HOTFIXES, _FOLLOW_UPS.c.hotfix_id == _HOTFIXES.c.id)
    .where(_FOLLOW_UPS.c.state == OVERDUE, *_merged_in(), _by_author())
)
_INCIDENT_HOTFIXES = (
    select_columns(_HOTFIXES.c.repo_full_name, _HOTFIXES.c.number, _HOTFIXES.c.title)
    .where(
        func.lower(_HOTFIXES.c.org) == bindparam("org"),
        _HOTFIXES.c.incident_id == bindparam("incident_id"),
    )
    .order_by(_HOTFIXES.c.merged_at)
)


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
