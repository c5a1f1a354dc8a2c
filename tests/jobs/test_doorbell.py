"""A job stored while the worker idles runs at once when the doorbell rings, not at the next
poll (serve's intake rings it for every new delivery)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from app.jobs import queue
from app.jobs.queue import ClaimedJob
from app.jobs.worker import Doorbell, Worker
from app.settings import Settings
from app.store.db import session_scope


async def test_a_ring_from_another_thread_wakes_an_idle_worker(
    engine: Engine, make_settings: Callable[..., Settings]
) -> None:
    # A poll an hour long: only the doorbell can make the job run within the test.
    settings = make_settings(worker_poll_seconds=3600)
    ran = asyncio.Event()

    async def run(job: ClaimedJob) -> None:
        ran.set()

    doorbell = Doorbell()
    worker = Worker(engine=engine, settings=settings, runners={"notice": run}, doorbell=doorbell)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    for _ in range(50):  # let it claim nothing and go idle
        await asyncio.sleep(0)

    with session_scope(engine) as session:
        queue.enqueue(session, kind="notice", key="notice:rung", ref="x", now=0.0)
    threading.Thread(target=doorbell.ring).start()  # intake runs on another thread's loop

    await asyncio.wait_for(ran.wait(), 10)
    stop.set()
    doorbell.ring()
    await asyncio.wait_for(running, 10)


def test_a_ring_before_any_worker_listens_does_nothing() -> None:
    Doorbell().ring()  # no loop attached yet: no error, nothing to wake
