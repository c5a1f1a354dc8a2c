"""A job whose lease cannot be kept stops before its next effect: never run twice at once.

The heartbeat's pause is driven by the test (each tick is one lease extension), and time by
the test's clock: nothing waits for real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from app.jobs import queue
from app.jobs.queue import ClaimedJob
from app.jobs.worker import Worker
from app.settings import Settings
from app.store.db import make_engine, session_scope
from app.store.models import Job
from tests.fakes.clock import FakeClock
from tests.jobs.test_queue import job_row, make_clock

KEY = "notice:lease-test"


class Scene:
    """A worker running one slow job whose heartbeat the test ticks."""

    def __init__(self, engine: Engine, settings: Settings, clock: FakeClock) -> None:
        self.ticks: asyncio.Queue[None] = asyncio.Queue()
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()
        self.effects: list[str] = []

        async def slow(job: ClaimedJob) -> None:
            self.started.set()
            await self.go_on.wait()
            self.effects.append("sent")

        async def tick(_seconds: float) -> None:
            await self.ticks.get()

        self.worker = Worker(
            engine=engine,
            settings=settings,
            runners={"notice": slow},
            name="worker-a",
            clock=clock.timestamp,
            sleep=tick,
        )


@pytest.fixture
def lease_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(job_lease_seconds=60)


def add_job(engine: Engine, now: float) -> None:
    with session_scope(engine) as session:
        queue.enqueue(session, kind="notice", key=KEY, ref="x", now=now)


async def test_a_job_taken_by_another_worker_stops_before_its_effect(
    engine: Engine, lease_settings: Settings
) -> None:
    clock = make_clock()
    add_job(engine, clock.timestamp())
    scene = Scene(engine, lease_settings, clock)
    running = asyncio.create_task(scene.worker.run_once())
    await asyncio.wait_for(scene.started.wait(), 10)

    # The lease ran out during a stall and worker-b claimed the job meanwhile.
    with engine.begin() as conn:
        conn.execute(update(Job).where(col(Job.key) == KEY).values(locked_by="worker-b"))
    scene.ticks.put_nowait(None)
    assert await asyncio.wait_for(running, 10) is True
    scene.go_on.set()

    assert scene.effects == []
    job = job_row(engine, KEY)
    assert (job.status, job.locked_by) == ("running", "worker-b")  # left to its new owner


async def test_a_database_out_until_the_lease_ends_stops_the_job(
    engine: Engine, lease_settings: Settings, tmp_path: Path
) -> None:
    clock = make_clock()
    add_job(engine, clock.timestamp())
    scene = Scene(engine, lease_settings, clock)
    running = asyncio.create_task(scene.worker.run_once())
    await asyncio.wait_for(scene.started.wait(), 10)

    # The database fails the heartbeat (an empty one: every statement errors).
    scene.worker.engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    clock.advance(seconds=20)
    scene.ticks.put_nowait(None)  # fails at 20 s of 60: the lease still holds, keep going
    await asyncio.sleep(0)
    assert not running.done()
    clock.advance(seconds=25)
    scene.ticks.put_nowait(None)  # fails at 45 s: the next try would be past the lease
    assert await asyncio.wait_for(running, 10) is True
    scene.go_on.set()

    assert scene.effects == []


async def test_a_kept_lease_lets_the_job_finish(engine: Engine, lease_settings: Settings) -> None:
    clock = make_clock()
    add_job(engine, clock.timestamp())
    scene = Scene(engine, lease_settings, clock)
    running = asyncio.create_task(scene.worker.run_once())
    await asyncio.wait_for(scene.started.wait(), 10)

    for _ in range(3):
        clock.advance(seconds=20)
        scene.ticks.put_nowait(None)
    scene.go_on.set()
    await asyncio.wait_for(running, 10)

    assert scene.effects == ["sent"]
    assert job_row(engine, KEY).status == "done"
