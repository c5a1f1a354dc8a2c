"""Deadlines are jobs in the shared queue: with two workers at once each fires exactly once.

Runs on SQLite and, when configured, on PostgreSQL, where the workers really race for jobs
(``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.followups.lifecycle import DUE_JOB, REMIND_JOB, job_key, open_follow_ups
from app.github.gateway import GitHubGateway
from app.jobs.worker import Worker
from app.services import Services
from app.settings import Settings
from app.store.models import FollowUp, HotfixRecord, Job, NoticeRow
from app.wiring import build_runners, open_services
from tests.fakes.clock import FakeClock
from tests.lane.scenario import Repo
from tests.rows import hotfix_record


async def _no_wait(_seconds: float) -> None:
    return None


@pytest.fixture
async def services(
    settings: Settings, engine: Engine, clock: FakeClock, repo: Repo
) -> AsyncIterator[Services]:
    gateway = GitHubGateway(settings, clock=clock, sleep=_no_wait)
    async with open_services(settings, engine, clock, gateway=gateway) as opened:
        yield opened


def record_hotfix(engine: Engine, clock: FakeClock) -> int:
    with Session(engine, expire_on_commit=False) as session:
        row = hotfix_record(clock.now(), installation_id=4242)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def worker(services: Services, clock: FakeClock, name: str) -> Worker:
    return Worker(
        engine=services.engine,
        settings=services.settings,
        runners=build_runners(services),
        clock=clock.timestamp,
        name=name,
    )


async def test_two_workers_fire_each_deadline_once(
    services: Services, engine: Engine, clock: FakeClock, repo: Repo
) -> None:
    hotfix_id = record_hotfix(engine, clock)
    await open_follow_ups(services, hotfix_id)
    (issue,) = repo.issues
    clock.advance(hours=25)  # past the cleanup PR's reminder (18 h) and deadline (24 h)

    first, second = (
        worker(services, clock, "host:1:aaaaaa"),
        worker(services, clock, "host:2:bbbbbb"),
    )
    ran = await asyncio.gather(first.drain(), second.drain())
    again = await asyncio.gather(first.drain(), second.drain())

    with Session(engine) as session:
        cleanup = session.exec(
            select(FollowUp).where(
                col(FollowUp.hotfix_id) == hotfix_id, col(FollowUp.kind) == "cleanup-pr"
            )
        ).one()
        assert cleanup.id is not None
        jobs = {
            kind: session.exec(select(Job).where(col(Job.key) == job_key(kind, cleanup.id))).one()
            for kind in (REMIND_JOB, DUE_JOB)
        }
        overdue = session.exec(
            select(NoticeRow).where(col(NoticeRow.kind) == "follow_up_overdue")
        ).all()
        hotfix = session.get(HotfixRecord, hotfix_id)
    assert hotfix is not None
    due = hotfix.merged_at + timedelta(hours=24)
    comments = repo.comments.get(issue, [])
    assert cleanup.state == "overdue"
    assert [(job.status, job.attempts) for job in jobs.values()] == [("done", 1), ("done", 1)]
    assert sum(ran) >= 2 and list(again) == [0, 0]
    # The reminder is not sent: by the time it ran, the deadline had passed as well.
    assert [c["body"].split("\n")[0] for c in comments] == [
        f"**OVERDUE**: the cleanup PR of this hotfix was due {due:%Y-%m-%d %H:%M} UTC; "
        "owner @bob. The runbook's follow-ups are not optional: close it or explain here "
        "why it is late."
    ]
    assert len(overdue) == 1
    assert "- [ ] cleanup PR: owner @bob" in repo.issues[issue]["body"]
    assert "**OVERDUE**" in repo.issues[issue]["body"]
