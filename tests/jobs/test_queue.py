"""The durable job queue and worker, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.clock import Clock
from app.intake.deliveries import insert_deliveries
from app.jobs import queue
from app.jobs.queue import ClaimedJob
from app.jobs.worker import Worker
from app.retry import Defer, PermanentError
from app.services import EventContext, Services
from app.settings import Settings
from app.store.db import make_engine, session_scope
from app.store.models import Job
from app.wiring import DeliveryRunner
from tests.fakes.clock import FakeClock
from tests.rows import delivery_row


def make_clock() -> FakeClock:
    """A hand-moved clock: lets tests expire leases and backoffs without waiting."""
    return FakeClock(datetime.fromtimestamp(1_800_000_000, UTC))


def add_delivery(
    engine: Engine,
    delivery: str = "d-1",
    event: str = "pull_request",
    action: str = "opened",
    *,
    now: float,
    max_attempts: int = 3,
) -> None:
    with engine.begin() as conn:
        insert_deliveries(
            conn,
            [
                delivery_row(
                    delivery,
                    event=event,
                    action=action,
                    received_at=datetime.fromtimestamp(now, UTC),
                    body=b'{"action": "opened"}',
                )
            ],
            now=now,
            max_attempts=max_attempts,
        )


def job_row(engine: Engine, key: str = "delivery:d-1") -> Job:
    with Session(engine) as session:
        job = queue.get(session, key=key)
    assert job is not None
    return job


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        job_lease_seconds=60, job_backoff_base_seconds=10, job_backoff_max_seconds=100
    )


def make_worker(
    engine: Engine,
    settings: Settings,
    handler: Callable[[EventContext], object],
    clock: Clock,
    name: str = "worker-a",
) -> Worker:
    services = Services(settings=settings, engine=engine, clock=clock)

    async def run(context: EventContext) -> None:
        result = handler(context)
        if asyncio.iscoroutine(result):
            await result

    runner = DeliveryRunner(services, {("pull_request", "opened"): run})
    return Worker(
        engine=engine,
        settings=settings,
        runners={"delivery": runner},
        name=name,
        clock=clock.timestamp,
    )


async def test_a_stored_delivery_is_handled_once_and_marked_done(
    engine: Engine, settings: Settings
) -> None:
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp())
    seen: list[tuple[str, str | None, int | None]] = []
    worker = make_worker(
        engine,
        settings,
        lambda ctx: seen.append((ctx.delivery_id, ctx.action, ctx.installation_id)),
        clock,
    )

    assert await worker.drain() == 1
    assert await worker.drain() == 0

    assert seen == [("d-1", "opened", 4242)]
    assert job_row(engine).status == "done"


async def test_an_event_without_a_handler_is_marked_done(
    engine: Engine, settings: Settings
) -> None:
    clock = make_clock()
    add_delivery(engine, event="watch", action="started", now=clock.timestamp())
    worker = make_worker(engine, settings, lambda ctx: None, clock)

    assert await worker.drain() == 1
    assert job_row(engine).status == "done"


async def test_enqueueing_the_same_key_twice_keeps_one_job(engine: Engine) -> None:
    with session_scope(engine) as session:
        queue.enqueue(session, kind="notice", key="notice:1", ref="1", now=1.0)
        queue.enqueue(session, kind="notice", key="notice:1", ref="1", now=2.0)
    with Session(engine) as session:
        assert queue.counts(session) == {"queued": 1}


async def test_a_failing_handler_is_retried_with_backoff_then_dead_then_replayed(
    engine: Engine, settings: Settings
) -> None:
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp(), max_attempts=3)
    calls: list[int] = []

    def flaky(ctx: EventContext) -> None:
        calls.append(1)
        if len(calls) <= 3:
            raise RuntimeError("GitHub said 502")

    worker = make_worker(engine, settings, flaky, clock)

    assert await worker.run_once()
    job = job_row(engine)
    assert (job.status, job.attempts, job.last_error) == (
        "queued",
        1,
        "RuntimeError: GitHub said 502",
    )
    # Backoff: 10 s for the first retry, scaled by 50-100 % jitter; not due yet.
    assert clock.timestamp() + 5 <= job.run_at <= clock.timestamp() + 10
    assert not await worker.run_once()

    clock.advance(seconds=10)
    assert await worker.run_once()
    job = job_row(engine)
    assert (job.status, job.attempts) == ("queued", 2)
    assert clock.timestamp() + 10 <= job.run_at <= clock.timestamp() + 20

    clock.advance(seconds=20)
    assert await worker.run_once()
    job = job_row(engine)
    assert (job.status, job.attempts, job.last_error) == (
        "dead",
        3,
        "RuntimeError: GitHub said 502",
    )
    clock.advance(seconds=1000)
    assert not await worker.run_once()

    with session_scope(engine) as session:
        assert queue.requeue(session, key="delivery:d-1", now=clock.timestamp())
    assert await worker.run_once()
    assert job_row(engine).status == "done"
    assert len(calls) == 4


async def test_a_permanent_error_makes_the_job_dead_at_once(
    engine: Engine, settings: Settings
) -> None:
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp())

    def uninstalled(ctx: EventContext) -> None:
        raise PermanentError("installation 4242 was removed")

    await make_worker(engine, settings, uninstalled, clock).drain()

    job = job_row(engine)
    assert (job.status, job.attempts) == ("dead", 1)
    assert job.last_error == "PermanentError: installation 4242 was removed"


async def test_a_deferred_job_waits_without_spending_an_attempt(
    engine: Engine, settings: Settings
) -> None:
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp())
    until = datetime.fromtimestamp(clock.timestamp() + 300, UTC)
    calls: list[int] = []

    def rate_limited(ctx: EventContext) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise Defer(until, "secondary rate limit; Retry-After 300")

    worker = make_worker(engine, settings, rate_limited, clock)
    assert await worker.run_once()

    job = job_row(engine)
    assert (job.status, job.attempts, job.run_at) == ("queued", 0, until.timestamp())
    assert job.last_error == "deferred: secondary rate limit; Retry-After 300"
    clock.advance(seconds=299)
    assert not await worker.run_once()
    clock.advance(seconds=1)
    assert await worker.run_once()
    assert job_row(engine).status == "done"


async def test_a_job_whose_worker_died_is_claimed_again_after_its_lease(
    engine: Engine, settings: Settings
) -> None:
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp())
    # Worker A claims the job and dies without a word.
    dead = queue.claim(engine, worker="worker-a", now=clock.timestamp(), lease_seconds=60)
    assert dead is not None
    seen: list[str] = []
    worker_b = make_worker(
        engine, settings, lambda ctx: seen.append(ctx.delivery_id), clock, name="worker-b"
    )

    assert not await worker_b.run_once()  # still leased to worker-a
    clock.advance(seconds=61)
    assert await worker_b.run_once()

    assert seen == ["d-1"]
    job = job_row(engine)
    assert (job.status, job.attempts) == ("done", 2)
    # Worker A coming back late cannot undo what B finished.
    assert not queue.complete(engine, job_id=dead.id, worker="worker-a", now=clock.timestamp())


async def test_a_job_that_kills_every_worker_is_buried(engine: Engine) -> None:
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp(), max_attempts=2)
    for _ in range(2):
        assert queue.claim(engine, worker="w", now=clock.timestamp(), lease_seconds=60) is not None
        clock.advance(seconds=61)
    assert queue.claim(engine, worker="w", now=clock.timestamp(), lease_seconds=60) is None
    job = job_row(engine)
    assert (job.status, job.last_error) == ("dead", "worker lost its lease on the last attempt")


async def test_a_scheduled_job_is_not_claimed_before_its_time(engine: Engine) -> None:
    with session_scope(engine) as session:
        queue.enqueue(
            session,
            kind="deadline",
            key="deadline:cleanup:4321",
            ref="4321",
            now=100.0,
            run_at=100.0 + 86400,
        )
    assert queue.claim(engine, worker="w", now=100.0 + 86399, lease_seconds=60) is None
    job = queue.claim(engine, worker="w", now=100.0 + 86400, lease_seconds=60)
    assert job is not None and job.kind == "deadline"


async def test_shutdown_releases_a_job_still_running(engine: Engine, settings: Settings) -> None:
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp())
    started = asyncio.Event()

    async def slow(ctx: EventContext) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes on its own

    fast_shutdown = settings.model_copy(update={"shutdown_grace_seconds": 0.0})
    worker = make_worker(engine, fast_shutdown, slow, clock)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await asyncio.wait_for(running, 10)

    job = job_row(engine)
    assert (job.status, job.attempts, job.locked_by) == ("queued", 0, None)


def test_two_workers_claiming_at_once_never_share_a_job(database_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        queue.enqueue_many(
            conn, ({"kind": "notice", "key": f"n:{i}", "ref": str(i)} for i in range(60)), now=1.0
        )
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def claim_all(name: str) -> None:
        own = make_engine(database_url)  # separate connection pools, as separate processes
        barrier.wait()
        while (job := queue.claim(own, worker=name, now=2.0, lease_seconds=60)) is not None:
            claimed[name].append(job.id)
        own.dispose()

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    all_ids = claimed["a"] + claimed["b"]
    assert len(all_ids) == 60
    assert len(set(all_ids)) == 60


def test_backoff_grows_exponentially_and_is_capped() -> None:
    import random

    rng = random.Random(7)
    delays = [queue.backoff_seconds(n, base=2, cap=60, rng=rng) for n in range(1, 8)]
    bounds = [2, 4, 8, 16, 32, 60, 60]
    assert all(b / 2 <= d <= b for d, b in zip(delays, bounds, strict=True))


def test_claimed_job_fields(engine: Engine) -> None:
    with session_scope(engine) as session:
        queue.enqueue(session, kind="notice", key="notice:7", ref="7", now=1.0, max_attempts=5)
    job = queue.claim(engine, worker="w", now=1.0, lease_seconds=30)
    assert job == ClaimedJob(
        id=job.id if job else 0, kind="notice", key="notice:7", ref="7", attempts=1, max_attempts=5
    )


async def test_jobs_of_a_dead_worker_on_this_host_are_released_at_start(
    engine: Engine, settings: Settings
) -> None:
    import socket

    clock = make_clock()
    add_delivery(engine, "d-dead", now=clock.timestamp())
    add_delivery(engine, "d-alive", now=clock.timestamp())
    add_delivery(engine, "d-elsewhere", now=clock.timestamp())
    host = socket.gethostname()
    for name in (f"{host}:999999:dead00", f"{host}:1:init00", "other-host:999999:far000"):
        assert (
            queue.claim(engine, worker=name, now=clock.timestamp(), lease_seconds=600) is not None
        )

    released = queue.release_orphans(
        engine, host=host, alive=lambda pid: pid != 999999, now=clock.timestamp()
    )

    assert released == 1
    statuses = {
        key: job_row(engine, f"delivery:{key}").status
        for key in ("d-dead", "d-alive", "d-elsewhere")
    }
    assert statuses == {"d-dead": "queued", "d-alive": "running", "d-elsewhere": "running"}
    assert job_row(engine, "delivery:d-dead").last_error == (
        "worker process ended while running this job"
    )


async def test_an_earlier_life_of_the_same_pid_is_dead(engine: Engine) -> None:
    # PID 1 in a restarted container: same host, same pid, another suffix.
    clock = make_clock()
    add_delivery(engine, "d-before-restart", now=clock.timestamp())
    assert queue.claim(engine, worker="box:1:aaaaaa", now=clock.timestamp(), lease_seconds=600)

    released = queue.release_orphans(
        engine, host="box", alive=lambda pid: True, now=clock.timestamp(), me="box:1:bbbbbb"
    )

    assert released == 1
    assert job_row(engine, "delivery:d-before-restart").status == "queued"


async def test_a_long_job_keeps_its_lease_so_no_other_worker_takes_it(
    engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    import time

    settings = make_settings(job_lease_seconds=0.06)
    add_delivery(engine, now=time.time())
    taken_by_other: list[object] = []

    async def long_job(ctx: EventContext) -> None:
        first = job_row(engine).lease_until
        deadline = time.monotonic() + 10
        while job_row(engine).lease_until == first:  # wait for one heartbeat
            assert time.monotonic() < deadline, "the lease was never extended"
            await asyncio.sleep(0.01)
        taken_by_other.append(
            queue.claim(engine, worker="worker-b", now=time.time(), lease_seconds=60)
        )

    worker = make_worker(engine, settings, long_job, clock=Clock())  # the real time
    assert await worker.run_once()

    assert taken_by_other == [None]
    job = job_row(engine)
    assert (job.status, job.attempts) == ("done", 1)


async def test_a_job_that_hangs_is_abandoned_and_retried(
    engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(job_timeout_seconds=0.05, job_backoff_base_seconds=10)
    clock = make_clock()
    add_delivery(engine, now=clock.timestamp())

    async def hangs(ctx: EventContext) -> None:
        await asyncio.Event().wait()

    assert await make_worker(engine, settings, hangs, clock).run_once()

    job = job_row(engine)
    assert (job.status, job.attempts) == ("queued", 1)
    assert job.last_error is not None and job.last_error.startswith("TimeoutError")
