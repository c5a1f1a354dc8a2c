"""Rows the app stores, built for tests that put them in a database themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.store.models import HotfixRecord
from tests.fakes.github import NUMBER, REPO, SHA

INCIDENT = "INC-2026-05-20-001"


def hotfix_record(merged_at: datetime, **changes: Any) -> HotfixRecord:
    """The ledger's row of acme/bookstore-platform#4321, a bypassed hotfix merged by @alice."""
    values: dict[str, Any] = {
        "org": "acme",
        "repo_full_name": REPO,
        "number": NUMBER,
        "title": f"HOTFIX: {INCIDENT} catalog nil-deref on missing tenant header",
        "incident_id": INCIDENT,
        "author": "bob",
        "approver": "alice",
        "cleanup_owner": "bob",
        "merged_by": "alice",
        "merged_at": merged_at,
        "head_sha": SHA,
        "merge_sha": "1" * 40,
        "base_ref": "main",
        "url": f"https://github.com/{REPO}/pull/{NUMBER}",
        "policy_state": "success",
        "scan_state": "passed",
        "bypassed": True,
        "recorded_at": merged_at,
    }
    values.update(changes)
    return HotfixRecord(**values)


def delivery_row(delivery: str, **overrides: Any) -> dict[str, Any]:
    """A ``delivery`` row as intake writes it: a pull_request.opened of installation 4242."""
    values: dict[str, Any] = {
        "id": delivery,
        "event": "pull_request",
        "action": "opened",
        "installation_id": 4242,
        "repository": REPO,
        "received_at": datetime(2026, 11, 26, 9, 30, 0, 123456, tzinfo=UTC),
        "body": b'{"action":"opened"}',
    }
    values.update(overrides)
    return values
