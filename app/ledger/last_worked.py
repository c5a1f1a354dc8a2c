"""The runbook's "When this runbook last worked" table, kept by the ledger instead of by hand.

The runbook is "stale after 90 days without exercise": what proves it still works is a hotfix
or a drill that went through the lane, and how long the lane took, from the declaration in the
status channel to the merge (runbook step 1 to step 5) and from the merge to a healthy
deployment (step 5).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.ledger.incidents import declaration_key
from app.store.models import Declaration, EvaluationRecord, HotfixRecord, TrackedPullRequest

HOTFIX, DRILL = "hotfix", "drill"


@dataclass(frozen=True)
class Worked:
    """One merged hotfix or drill; a duration is None when either end of it is unknown."""

    date: datetime  # the merge
    incident_id: str | None
    repository: str
    number: int
    resolved_by: str  # HOTFIX or DRILL
    declared_to_merge_minutes: float | None
    merge_to_healthy_minutes: float | None


def last_worked(session: Session, *, limit: int = 20) -> list[Worked]:
    """The latest merged hotfixes and drills, newest first, with their durations.

    Two queries: the ledger rows, then their declarations by key (one per incident, so the
    hotfixes of one incident all measure from the same declaration).
    """
    query = (
        select(HotfixRecord)
        .order_by(col(HotfixRecord.merged_at).desc(), col(HotfixRecord.id).desc())
        .limit(limit)
    )
    records = list(session.exec(query))
    keys = [_key(record) for record in records]
    declared: dict[str, datetime] = {}
    if keys:
        found = select(col(Declaration.key), col(Declaration.declared_at)).where(
            col(Declaration.key).in_(set(keys))
        )
        declared = {key: at for key, at in session.exec(found)}
    return [
        Worked(
            date=record.merged_at,
            incident_id=record.incident_id,
            repository=record.repo_full_name,
            number=record.number,
            resolved_by=DRILL if record.drill else HOTFIX,
            declared_to_merge_minutes=_minutes(declared.get(key), record.merged_at),
            merge_to_healthy_minutes=_minutes(record.merged_at, record.deployed_at),
        )
        for record, key in zip(records, keys, strict=True)
    ]


def last_completed(session: Session, *, org: str) -> HotfixRecord | None:
    """The latest merged hotfix or drill of an organisation (any case): what the runbook's
    freshness is measured from."""
    query = (
        select(HotfixRecord)
        .where(func.lower(col(HotfixRecord.org)) == org.lower())
        .order_by(col(HotfixRecord.merged_at).desc(), col(HotfixRecord.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def known_orgs(session: Session) -> list[str]:
    """Every organisation the lane has seen a pull request or a hotfix of, once each
    whatever its case, sorted: those whose runbook can go stale."""
    names: dict[str, str] = {}
    for org in session.exec(select(col(HotfixRecord.org)).distinct()):
        names.setdefault(org.lower(), org)
    for repo in session.exec(select(col(TrackedPullRequest.repo_full_name)).distinct()):
        org = repo.split("/", 1)[0]
        names.setdefault(org.lower(), org)
    return [names[key] for key in sorted(names)]


def first_seen(session: Session, *, org: str) -> datetime | None:
    """When the lane first evaluated a pull request of the organisation: with no hotfix yet,
    the runbook's freshness counts from there."""
    query = select(func.min(col(EvaluationRecord.evaluated_at))).where(
        func.lower(col(EvaluationRecord.repo_full_name)).startswith(
            f"{org.lower()}/", autoescape=True
        )
    )
    return session.exec(query).one()


def any_repository(session: Session, *, org: str) -> TrackedPullRequest | None:
    """A pull request the lane tracked in the organisation: where its policy can be read
    from when it has no hotfix yet."""
    query = (
        select(TrackedPullRequest)
        .where(
            func.lower(col(TrackedPullRequest.repo_full_name)).startswith(
                f"{org.lower()}/", autoescape=True
            )
        )
        .order_by(col(TrackedPullRequest.updated_at).desc())
        .limit(1)
    )
    return session.exec(query).first()


# --- renderers --------------------------------------------------------------------------------


def as_table(rows: Sequence[Worked]) -> list[str]:
    """What ``hotfix-lane runbook last-worked`` prints, shaped like the runbook's own table.

    A hotfix that names no incident is shown by its pull request, so every row says what it is.
    """
    lines = [
        f"{'DATE':<10}  {'INCIDENT':<32}  {'RESOLVED BY':<11}  {'DECLARED→MERGE':>14}  "
        "MERGE→HEALTHY"
    ]
    for row in rows:
        incident = row.incident_id or f"{row.repository}#{row.number}"
        lines.append(
            f"{row.date:%Y-%m-%d}  {incident:<32}  {row.resolved_by:<11}  "
            f"{_shown(row.declared_to_merge_minutes):>14}  {_shown(row.merge_to_healthy_minutes)}"
        )
    return lines


def as_json(rows: Sequence[Worked]) -> str:
    return json.dumps(
        [{**asdict(row), "date": row.date.isoformat()} for row in rows],
        indent=2,
    )


# --- helpers ----------------------------------------------------------------------------------


def _key(record: HotfixRecord) -> str:
    return declaration_key(record.org, record.incident_id, record.repo_full_name, record.number)


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    """Minutes from ``start`` to ``end``; None when one is unknown or they are out of order (a
    declaration after the merge announced it, it did not start it)."""
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 60


def _shown(minutes: float | None) -> str:
    return "-" if minutes is None else f"{minutes:.1f} min"
