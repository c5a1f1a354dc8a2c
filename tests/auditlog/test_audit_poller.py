"""The Enterprise Cloud audit-log poller against the respx fake of GitHub."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.auditlog.correlate import CORRELATE_JOB
from app.auditlog.jobs import POLL_JOB, poll_series
from app.auditlog.poller import AuditLogPoller, Organisation, organisations
from app.github.gateway import GitHubGateway
from app.jobs.recurring import seed
from app.ledger.records import get_hotfix, record_hotfix
from app.settings import Settings
from app.store.models import AuditEvent, Job, NoticeRow, TrackedPullRequest
from app.wiring import build_worker, open_services, recurring_series
from tests.auditlog.audit_lane import CONFIRMED, POSTED, override
from tests.fakes.clock import FakeClock
from tests.fakes.github import INSTALLATION_ID, REPO, FakeGitHub, load, reply
from tests.harness import rows
from tests.rows import hotfix_record

AUDIT_LOG = "/orgs/acme/audit-log"
PHRASE = "action:protected_branch.policy_override created:>=2026-05-20"


def track(engine: Engine, repo: str, installation_id: int | None = INSTALLATION_ID) -> None:
    with Session(engine) as session:
        session.add(
            TrackedPullRequest(
                repo_full_name=repo,
                number=1,
                installation_id=installation_id,
                head_sha="a" * 40,
                lane="hotfix",
                state="open",
                pull_request="{}",
                updated_at=datetime(2026, 5, 20, tzinfo=UTC),
            )
        )
        session.commit()


def stored(engine: Engine) -> list[AuditEvent]:
    return rows(engine, AuditEvent, col(AuditEvent.id))


def notice_texts(engine: Engine) -> list[str]:
    return [row.text for row in rows(engine, NoticeRow, col(NoticeRow.id))]


@pytest.fixture
def poller(
    engine: Engine, settings: Settings, gateway: GitHubGateway, clock: FakeClock
) -> AuditLogPoller:
    return AuditLogPoller(engine=engine, settings=settings, gateway=gateway, clock=clock)


def serve(fake_github: FakeGitHub, pages: dict[str | None, Any]) -> list[httpx.Request]:
    """Answer the audit-log search page by page (keyed by the ``after`` cursor)."""
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = pages[request.url.params.get("after")]
        return page if isinstance(page, httpx.Response) else reply(page)

    fake_github.router.get(AUDIT_LOG).mock(side_effect=respond)
    return seen


async def test_overrides_are_fetched_page_by_page_stored_and_correlated(
    poller: AuditLogPoller, engine: Engine, fake_github: FakeGitHub, clock: FakeClock
) -> None:
    track(engine, REPO)
    now = clock.now()
    with Session(engine) as session:
        record_hotfix(session, record=hotfix_record(now - timedelta(minutes=20)))
        session.commit()
    next_page = f"{AUDIT_LOG}?phrase=x&per_page=100&after=cursor-2"
    requests = serve(
        fake_github,
        {
            None: reply(
                [override(now - timedelta(minutes=2), "doc-new")], etag='"p1"', next_page=next_page
            ),
            "cursor-2": [
                override(now - timedelta(minutes=19), "doc-hotfix"),
                # Older than the first poll looks back: before the ledger knew anything.
                override(now - timedelta(hours=3), "doc-old"),
                {"action": "protected_branch.policy_override"},  # malformed: skipped
            ],
        },
    )

    result = await poller.poll_once()

    # Both overrides posted, and doc-hotfix's confirmation.
    assert (result.stored, result.duplicates, result.notices) == (2, 0, 3)
    assert [row.document_id for row in stored(engine)] == ["doc-new", "doc-hotfix"]
    first = requests[0].url
    assert (first.path, first.params["phrase"], first.params["per_page"]) == (
        f"/api/v3{AUDIT_LOG}",
        PHRASE,
        "100",
    )
    assert notice_texts(engine) == [POSTED, POSTED, CONFIRMED]
    with Session(engine) as session:
        ledger = get_hotfix(session, repo_full_name=REPO, number=4321)
        jobs = list(session.exec(select(Job).where(col(Job.kind) == CORRELATE_JOB)))
    assert ledger is not None and ledger.audit_document_id == "doc-hotfix"
    assert [job.ref for job in jobs] == [str(stored(engine)[0].id)]  # doc-new waits for a merge


async def test_the_next_poll_starts_from_the_newest_stored_override(
    poller: AuditLogPoller, engine: Engine, fake_github: FakeGitHub, clock: FakeClock
) -> None:
    track(engine, REPO)
    events = [override(clock.now() - timedelta(minutes=5), "doc-1")]
    requests = serve(fake_github, {None: reply(events, etag='"same"')})
    await poller.poll_once()

    clock.advance(minutes=5)
    fake_github.router.get(AUDIT_LOG).mock(return_value=reply(None, status=304))
    second = await poller.poll_once()

    assert (second.stored, second.duplicates) == (0, 1)  # the unchanged page, from the cache
    assert requests[0].url.params["phrase"] == PHRASE
    last = fake_github.router.calls.last.request
    assert last.headers["if-none-match"] == '"same"'
    assert len(stored(engine)) == 1


async def test_an_organisation_without_enterprise_cloud_is_skipped_and_said_once(
    poller: AuditLogPoller,
    engine: Engine,
    fake_github: FakeGitHub,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    track(engine, REPO)
    track(engine, "globex/api", installation_id=5151)
    fake_github.token(installation_id=5151)
    fake_github.get(AUDIT_LOG, reply(load("forbidden"), status=403))
    fake_github.get(
        "/orgs/globex/audit-log", reply([override(clock.now(), "g-1", repo="globex/api")])
    )

    with caplog.at_level(logging.DEBUG, logger="app.auditlog.poller"):
        first = await poller.poll_once()
        await poller.poll_once()

    assert first.stored == 1
    assert [row.repo for row in stored(engine)] == ["globex/api"]
    warnings = [r for r in caplog.records if "acme" in r.getMessage() and r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "organization_administration: read" in warnings[0].getMessage()


async def test_a_rate_limited_poll_ends_the_round_without_failing(
    poller: AuditLogPoller, engine: Engine, fake_github: FakeGitHub
) -> None:
    track(engine, REPO)
    fake_github.get(
        AUDIT_LOG,
        reply(load("secondary_rate_limit"), status=403, headers={"retry-after": "60"}),
    )

    result = await poller.poll_once()

    assert (result.stored, result.notices) == (0, 0)


def test_organisations_are_the_accounts_of_tracked_pull_requests(engine: Engine) -> None:
    track(engine, "acme/api")
    track(engine, "acme/web")
    track(engine, "globex/api", installation_id=5151)
    track(engine, "nobody/repo", installation_id=None)

    assert organisations(engine) == [
        Organisation(INSTALLATION_ID, "acme"),
        Organisation(5151, "globex"),
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="no interval set"),
        pytest.param({"audit_log_poll_seconds": 0}, id="a zero interval"),
        pytest.param(
            {"audit_log_poll_seconds": 60, "github_app_id": None}, id="the App not configured"
        ),
    ],
)
def test_the_poll_is_off_unless_configured(settings: Settings, overrides: dict[str, Any]) -> None:
    assert poll_series(settings.model_copy(update=overrides)) is None
    assert POLL_JOB not in {s.kind for s in recurring_series(settings.model_copy(update=overrides))}


async def test_the_poll_is_a_recurring_job_run_once_a_slot(
    settings: Settings, engine: Engine, fake_github: FakeGitHub, clock: FakeClock
) -> None:
    track(engine, REPO)
    event = override(datetime(2026, 5, 20, 9, 57, tzinfo=UTC), "doc-polled")
    seen = serve(fake_github, {None: reply([event])})
    configured = settings.model_copy(update={"audit_log_poll_seconds": 300.0})
    series = poll_series(configured)
    assert series is not None
    clock.set(datetime(2026, 5, 20, 9, 58, tzinfo=UTC))
    seed(engine, recurring_series(configured), now=clock.now())

    async with open_services(configured, engine, clock) as services:
        worker = build_worker(services)
        clock.set(datetime(2026, 5, 20, 10, 0, 1, tzinfo=UTC))
        await worker.drain()
        await worker.drain()  # the next slot is not due yet: nothing runs twice

    assert len(seen) == 1
    assert [e.document_id for e in stored(engine)] == ["doc-polled"]
    polls = [
        (job.key, job.status) for job in rows(engine, Job, col(Job.id)) if job.kind == POLL_JOB
    ]
    assert polls == [
        ("audit-log-poll:2026-05-20T10:00", "done"),
        ("audit-log-poll:2026-05-20T10:05", "queued"),
    ]
