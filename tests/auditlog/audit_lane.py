"""hotfix-lane running for audit-log tests: post events, record hotfixes, run the worker.

The real app (``create_app`` with its lifespan) behind httpx's ASGI transport; its clock and
the worker's are one ``FakeClock`` that tests move instead of waiting.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import Session, col, select

from app.auditlog.correlate import CORRELATE_JOB
from app.ledger.records import get_hotfix, record_hotfix
from app.main import create_app
from app.notify.outbox import NOTICE_JOB
from app.services import Services
from app.settings import Settings
from app.store.models import AuditEvent, HotfixRecord, Job, NoticeRow
from app.wiring import build_worker
from tests.fakes.clock import FakeClock

TOKEN = "audit-token-5b0e1c"
URL = "/api/audit-log"
REPO = "acme/bookstore-platform"
NUMBER = 4321
SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"


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


def hotfix(merged_at: datetime, **changes: Any) -> HotfixRecord:
    values: dict[str, Any] = {
        "org": "acme",
        "repo_full_name": REPO,
        "number": NUMBER,
        "title": "HOTFIX: INC-2026-05-20-001 catalog nil-deref on missing tenant header",
        "incident_id": "INC-2026-05-20-001",
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


@dataclass
class AuditLane:
    client: httpx.AsyncClient
    services: Services
    clock: FakeClock

    async def post(
        self,
        body: Any,
        *,
        token: str | None = TOKEN,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return await self.client.post(URL, content=content, headers=all_headers)

    def session(self) -> Session:
        return Session(self.services.engine, expire_on_commit=False)

    def record_hotfix(self, record: HotfixRecord) -> HotfixRecord:
        with self.session() as session:
            row, _new = record_hotfix(session, record=record)
            session.commit()
        return row

    def hotfix(self, number: int = NUMBER, repo: str = REPO) -> HotfixRecord:
        with self.session() as session:
            row = get_hotfix(session, repo_full_name=repo, number=number)
        assert row is not None
        return row

    @property
    def events(self) -> list[AuditEvent]:
        with self.session() as session:
            return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))

    @property
    def notices(self) -> list[NoticeRow]:
        with self.session() as session:
            return list(session.exec(select(NoticeRow).order_by(col(NoticeRow.id))))

    def jobs(self, kind: str) -> list[Job]:
        with self.session() as session:
            return list(
                session.exec(select(Job).where(col(Job.kind) == kind).order_by(col(Job.id)))
            )

    def nothing_stored(self) -> bool:
        """No event, notice or job at all: what a refused request must leave behind."""
        return (
            self.events == []
            and self.notices == []
            and self.jobs(CORRELATE_JOB) == []
            and self.jobs(NOTICE_JOB) == []
        )

    async def run_worker(self) -> int:
        """Run every job due at the clock's time; how many ran."""
        return await build_worker(self.services).drain()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[AuditLane]:
    # Starting now, in whole seconds: audit events carry millisecond timestamps.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    app = create_app(settings, run_worker=False, clock=clock)
    services: Services = app.state.services
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hotfix-lane.test") as c:
            yield AuditLane(client=c, services=services, clock=clock)
