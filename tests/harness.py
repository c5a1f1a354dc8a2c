"""hotfix-lane running in a test: the real app, its store and a worker the test drives.

``running_app(settings)`` starts ``create_app`` with its lifespan behind httpx's ASGI
transport (no worker thread) and yields a ``RunningApp``: the client, the API loop's services,
a worker on those services, and the ``FakeClock`` that intake, the worker and the GitHub and
Slack clients all read. Tests post deliveries and audit-log events, run the jobs that are due
and read the rows the app stored; the domain harnesses (``tests/lane/scenario.py``,
``tests/auditlog/audit_lane.py``) add what only their tests need.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel, col, select

from app.github.gateway import GitHubGateway
from app.jobs.worker import Worker
from app.ledger.records import get_hotfix, record_hotfix
from app.main import WEBHOOK_PATH, create_app
from app.notify.slack import ChannelPacer, Notifier, SlackNotifier
from app.services import Services
from app.settings import Settings
from app.store.models import (
    AuditEvent,
    Delivery,
    EvaluationRecord,
    HotfixRecord,
    Job,
    NoticeRow,
)
from app.wiring import build_worker
from tests.conftest import webhook_headers
from tests.fakes.clock import FakeClock
from tests.fakes.github import NUMBER, REPO

AUDIT_LOG_PATH = "/api/audit-log"
BASE_URL = "http://hotfix-lane.test"
# Where the default policy declares hotfixes.
STATUS_CHANNEL = "#platform-status"
AUDIT_CHANNEL = "#platform-audit"

Row = TypeVar("Row", bound=SQLModel)


def rows(engine: Engine, model: type[Row], order_by: Mapped[Any] | None = None) -> list[Row]:
    """Every row of ``model``'s table, ordered by ``order_by`` (a column) if given."""
    query = select(model)
    if order_by is not None:
        query = query.order_by(order_by)
    with Session(engine) as session:
        return list(session.exec(query))


def encode(body: Any) -> bytes:
    """``body`` as sent: bytes as they are, anything else as JSON."""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


@dataclass
class RunningApp:
    """The app, started: post to it, run its due jobs, read what it stored."""

    client: httpx.AsyncClient
    services: Services
    worker: Worker  # runs every job kind on ``services``, at ``clock``'s time
    clock: FakeClock  # the app's, the worker's and its clients': move it instead of waiting

    @classmethod
    def on(cls, app: RunningApp, **extra: Any) -> Self:
        """A domain harness (a subclass with fields of its own) on an app already running."""
        return cls(
            client=app.client, services=app.services, worker=app.worker, clock=app.clock, **extra
        )

    # --- HTTP in -------------------------------------------------------------------------------

    async def post_webhook(
        self, event: str, body: Any, delivery: str | None = None, **header_overrides: str
    ) -> httpx.Response:
        """POST a delivery signed like GitHub; an override of ``""`` leaves that header out."""
        content = encode(body)
        headers = webhook_headers(content, event, delivery) | header_overrides
        return await self.client.post(
            WEBHOOK_PATH, content=content, headers={k: v for k, v in headers.items() if v}
        )

    async def deliver(
        self, event: str, payload: dict[str, Any], delivery: str | None = None
    ) -> httpx.Response:
        """A delivery GitHub sends, stored (202), and every job it makes due, run."""
        response = await self.post_webhook(event, payload, delivery)
        assert response.status_code == 202, response.text
        await self.worker.drain()
        return response

    async def post_audit_log(
        self,
        body: Any,
        *,
        token: str | None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST audit-log events (an object, a list, or bytes such as NDJSON)."""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return await self.client.post(AUDIT_LOG_PATH, content=encode(body), headers=all_headers)

    # --- jobs ----------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Run every job due at the clock's time; how many ran."""
        return await self.worker.drain()

    async def run_due_later(self) -> int:
        """Make every waiting job due now (skipping its backoff or deferral) and run them."""
        with self.services.engine.begin() as conn:
            conn.execute(update(Job).where(col(Job.status) == "queued").values(run_at=0))
        return await self.worker.drain()

    # --- the store -----------------------------------------------------------------------------

    def session(self) -> Session:
        return Session(self.services.engine, expire_on_commit=False)

    def rows(self, model: type[Row], order_by: Mapped[Any] | None = None) -> list[Row]:
        return rows(self.services.engine, model, order_by)

    def jobs(self, kind: str | None = None) -> list[Job]:
        """The job table (of one ``kind``), oldest first."""
        return [job for job in self.rows(Job, col(Job.id)) if kind is None or job.kind == kind]

    @property
    def deliveries(self) -> list[Delivery]:
        return self.rows(Delivery)

    @property
    def notices(self) -> list[NoticeRow]:
        """The audit notices in the outbox, oldest first (the status channel's are
        ``status_notices``)."""
        return [row for row in self.outbox if row.channel != STATUS_CHANNEL]

    @property
    def status_notices(self) -> list[NoticeRow]:
        """The status channel's notices (declarations and their threads), oldest first."""
        return [row for row in self.outbox if row.channel == STATUS_CHANNEL]

    @property
    def outbox(self) -> list[NoticeRow]:
        """Every notice in the outbox, oldest first."""
        return self.rows(NoticeRow, col(NoticeRow.id))

    @property
    def events(self) -> list[AuditEvent]:
        """Stored audit-log events, oldest first."""
        return self.rows(AuditEvent, col(AuditEvent.id))

    @property
    def evaluations(self) -> list[EvaluationRecord]:
        return self.rows(EvaluationRecord, col(EvaluationRecord.id))

    @property
    def ledger(self) -> list[HotfixRecord]:
        return self.rows(HotfixRecord, col(HotfixRecord.id))

    def record_hotfix(self, record: HotfixRecord) -> HotfixRecord:
        """Put a merged hotfix in the ledger, as the merge handler would."""
        with self.session() as session:
            row, _new = record_hotfix(session, record=record)
            session.commit()
        return row

    def hotfix(self, number: int = NUMBER, repo: str = REPO) -> HotfixRecord:
        """The ledger's row of one pull request (which must be there)."""
        with self.session() as session:
            row = get_hotfix(session, repo_full_name=repo, number=number)
        assert row is not None
        return row


async def _no_wait(_seconds: float) -> None:
    return None


def _clients(settings: Settings, clock: FakeClock) -> tuple[GitHubGateway | None, Notifier | None]:
    """A gateway and a notifier on ``clock`` whose retries and pacing return at once."""
    gateway = None
    if settings.github_configured:
        gateway = GitHubGateway(settings, clock=clock, sleep=_no_wait)
    notifier: Notifier | None = None
    if settings.slack_bot_token is not None:
        notifier = SlackNotifier(
            settings.slack_bot_token.get_secret_value(),
            settings.slack_api_url,
            pacer=ChannelPacer(sleep=_no_wait),
            clock=clock,
        )
    return gateway, notifier


@asynccontextmanager
async def running_app(
    settings: Settings, *, start: datetime | None = None, no_waits: bool = False
) -> AsyncIterator[RunningApp]:
    """The real app on ``settings``, its clock at ``start`` (now, in whole seconds).

    ``no_waits``: the GitHub gateway's retries and the Slack notifier's pacing do not sleep
    (otherwise the app builds its own clients from the settings, as in production).
    """
    clock = FakeClock(start or datetime.now(UTC).replace(microsecond=0))
    gateway, notifier = _clients(settings, clock) if no_waits else (None, None)
    app = create_app(settings, run_worker=False, gateway=gateway, notifier=notifier, clock=clock)
    services: Services = app.state.services
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield RunningApp(
                client=client, services=services, worker=build_worker(services), clock=clock
            )
