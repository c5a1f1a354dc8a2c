"""Audit-log events shaped like GitHub's, and the running app posting them with its token.

``AuditLane`` is ``tests/harness.py``'s running app (its clock and the worker's one
``FakeClock`` that tests move instead of waiting) with the endpoint's token filled in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from app.auditlog.correlate import CORRELATE_JOB, claim_override_for
from app.ledger.records import record_hotfix
from app.notify.outbox import NOTICE_JOB
from app.policy.loader import default_policy
from app.settings import Settings
from app.store.models import HotfixRecord
from tests.fakes.github import REPO
from tests.harness import RunningApp, running_app

TOKEN = "audit-token-5b0e1c"

# What the audit channel shows of ``override()`` on acme/bookstore-platform's main: the event as
# it arrives, then its outcome, matched to ``tests.rows.hotfix_record``'s hotfix or not at all.
POSTED = (
    f"Audit log: @alice overrode branch protection on {REPO} main "
    "(required_status_checks, review_policy_not_satisfied)"
)
CONFIRMED = f"Override confirmed: the admin merge of PR #4321 (INC-2026-05-20-001) on {REPO} main"
VIOLATION = (
    f"VIOLATION: no hotfix: @alice overrode branch protection on {REPO} main, "
    "a bypass outside the hotfix lane (no admin merge of a hotfix there within 15 minutes)"
)


def millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def event(
    action: str, at: datetime, document_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """An audit-log event shaped like GitHub's (REST API and streaming)."""
    body: dict[str, Any] = {
        "@timestamp": millis(at),
        "action": action,
        "actor": "alice",
        "actor_id": 1001,
        "actor_location": {"country_code": "DE"},
        "created_at": millis(at),
        "operation_type": "modify",
        "org": "acme",
        "org_id": 2001,
        "user_agent": "Mozilla/5.0",
    }
    if document_id is not None:
        body["_document_id"] = document_id
    body.update(fields)
    return body


def override(
    at: datetime, document_id: str | None = "pCtl2n0J8njxnR8oUOEpuw", **fields: Any
) -> dict[str, Any]:
    """``protected_branch.policy_override``: an admin merged past branch protection."""
    values: dict[str, Any] = {
        "repo": REPO,
        "repo_id": 3001,
        "branch": "refs/heads/main",
        "reasons": [
            {
                "code": "required_status_checks",
                "message": 'Required status check "e2e" is expected.',
            }
        ],
        "overridden_codes": ["required_status_checks", "review_policy_not_satisfied"],
    }
    values.update(fields)
    return event("protected_branch.policy_override", at, document_id, **values)


@dataclass
class AuditLane(RunningApp):
    """The running app, posting to the audit-log endpoint with its token."""

    async def post(
        self,
        body: Any,
        *,
        token: str | None = TOKEN,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.post_audit_log(
            body, token=token, content_type=content_type, headers=headers
        )

    def merge(self, record: HotfixRecord) -> bool:
        """What a merge's hotfix-recorded job does: record the hotfix, claim its override."""
        with self.session() as session:
            row, _new = record_hotfix(session, record=record)
            claimed = claim_override_for(
                session,
                hotfix=row,
                settings=self.services.settings,
                policy=default_policy(),
                now=self.clock.now(),
            )
            session.commit()
        return claimed

    def nothing_stored(self) -> bool:
        """No event, notice or job at all: what a refused request must leave behind."""
        return (
            self.events == []
            and self.notices == []
            and self.jobs(CORRELATE_JOB) == []
            and self.jobs(NOTICE_JOB) == []
        )


@asynccontextmanager
async def running(settings: Settings, *, no_waits: bool = False) -> AsyncIterator[AuditLane]:
    """The app on ``settings``; ``no_waits``: Slack pacing never sleeps (``running_app``)."""
    async with running_app(settings, no_waits=no_waits) as app:
        yield AuditLane.on(app)
