"""What ``hotfix-lane ledger list`` prints: the merged hotfixes, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.store.models import HotfixRecord


def as_json(rows: Sequence[HotfixRecord]) -> str:
    return json.dumps(
        [
            {
                **row.model_dump(mode="json", exclude={"id", "bypass_reasons"}),
                "bypass_reasons": json.loads(row.bypass_reasons),
            }
            for row in rows
        ],
        indent=2,
    )


def as_table(rows: Sequence[HotfixRecord]) -> list[str]:
    lines = [
        f"{'MERGED (UTC)':<17} {'REPOSITORY':<28} {'PR':>6}  {'INCIDENT':<20} "
        f"{'MERGED BY':<14} {'APPROVER':<14} {'SCAN':<8} BYPASS"
    ]
    for row in rows:
        lines.append(
            f"{row.merged_at:%Y-%m-%d %H:%M} {row.repo_full_name:<28} {row.number:>6}  "
            f"{row.incident_id or '-':<20} {row.merged_by or '-':<14} {row.approver or '-':<14} "
            f"{row.scan_state:<8} {'yes' if row.bypassed else 'no'}"
        )
    return lines
