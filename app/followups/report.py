"""What ``hotfix-lane followups list`` and ``followups show`` print: rows, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.followups.body import follow_up_line, mention, title
from app.rules.due_dates import FollowUpKind
from app.store.models import FollowUp, HotfixRecord

Row = tuple[FollowUp, HotfixRecord]


def as_json(rows: Sequence[Row]) -> str:
    return json.dumps(
        [
            {
                "incident_id": record.incident_id,
                "repository": record.repo_full_name,
                "number": record.number,
                "follow_up": FollowUpKind(row.kind).label,
                "owner": row.owner,
                "due_at": row.due_at.isoformat(),
                "state": row.state,
                "done_at": row.done_at.isoformat() if row.done_at else None,
                "done_by": row.done_by,
                "evidence": row.evidence,
            }
            for row, record in rows
        ],
        indent=2,
    )


def as_table(rows: Sequence[Row]) -> list[str]:
    lines = [
        f"{'DUE (UTC)':<17} {'STATE':<8} {'INCIDENT':<20} {'REPOSITORY':<28} {'PR':>6}  "
        f"{'FOLLOW-UP':<19} OWNER"
    ]
    for row, record in rows:
        lines.append(
            f"{row.due_at:%Y-%m-%d %H:%M} {row.state:<8} {record.incident_id or '-':<20} "
            f"{record.repo_full_name:<28} {record.number:>6}  "
            f"{FollowUpKind(row.kind).label:<19} {mention(row.owner)}"
        )
    return lines


def as_text(rows: Sequence[Row]) -> list[str]:
    """One block per hotfix of an incident: the title and its task-list lines."""
    lines: list[str] = []
    seen: set[int | None] = set()
    for _row, record in rows:
        if record.id in seen:
            continue
        seen.add(record.id)
        if lines:
            lines.append("")
        lines.append(
            f"{title(record)} in {record.repo_full_name}, merged by {mention(record.merged_by)}"
        )
        lines.extend(follow_up_line(row) for row, other in rows if other.id == record.id)
    return lines
