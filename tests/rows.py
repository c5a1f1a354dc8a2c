"""Rows the app stores, built for tests that put them in a database themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.ledger.records import record_hotfix
from app.store.models import FollowUp, HotfixRecord
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


def add_hotfix(
    session: Session, repo: str, number: int, merged_at: datetime, **changes: object
) -> int:
    """Record a merged hotfix of ``repo`` (its organisation from the name); its id."""
    row, _new = record_hotfix(
        session,
        record=hotfix_record(
            merged_at,
            org=repo.split("/")[0],
            repo_full_name=repo,
            number=number,
            head_sha=f"{number:040d}",
            url=f"https://github.com/{repo}/pull/{number}",
            **changes,
        ),
    )
    assert row.id is not None
    return row.id


def add_follow_up(
    session: Session,
    hotfix_id: int,
    kind: str,
    due_at: datetime,
    state: str,
    done_at: datetime | None = None,
) -> None:
    """A follow-up of ``hotfix_id`` due at ``due_at`` (the caller commits)."""
    session.add(
        FollowUp(
            hotfix_id=hotfix_id,
            kind=kind,
            due_at=due_at,
            state=state,
            done_at=done_at,
            created_at=due_at - timedelta(days=1),
            updated_at=due_at,
        )
    )


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
