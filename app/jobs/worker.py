"""The worker: claims jobs, runs them by kind, and records the outcome.

It knows job kinds only through the runners it is handed (``app.wiring`` builds them). It
runs inside ``hotfix-lane serve`` (on a thread of its own) or alone as ``hotfix-lane worker``;
several workers may share PostgreSQL. Tests drive it directly with ``run_once`` / ``drain``
instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.engine import Engine

from app.jobs import metrics, queue
from app.jobs.queue import ClaimedJob
from app.logs import bound_delivery
from app.retry import Defer, PermanentError
from app.settings import Settings
from app.store.db import read_session

log = logging.getLogger(__name__)

JobRunner = Callable[[ClaimedJob], Awaitable[None]]


class Doorbell:
    """Wakes a polling worker at once, from any thread: ``serve``'s intake rings it when a
    delivery is stored, so a lone event waits for no poll interval. Before the worker's loop
    is attached (or without one: a separate ``worker`` process) a ring does nothing."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def attach(self) -> asyncio.Event:
        """The event the worker on the running loop waits on."""
        self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()
        return self._event

    def ring(self) -> None:
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (signal 0 only checks)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


class Worker:
    """Runs jobs of the kinds it has a runner for, ``concurrency`` at a time."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        runners: Mapping[str, JobRunner],
        name: str | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        doorbell: Doorbell | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.runners = runners
        self.name = name or worker_name()
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        # The pause between lease extensions (tests hand in one they drive).
        self.sleep = sleep
        self.doorbell = doorbell

    async def run_once(self) -> bool:
        """Claim and run one due job. Returns False when nothing was due."""
        job = await self._claim()
        if job is None:
            return False
        await self._run(job)
        return True

    async def _claim(self) -> ClaimedJob | None:
        return await asyncio.to_thread(
            queue.claim,
            self.engine,
            worker=self.name,
            now=self.clock(),
            lease_seconds=self.settings.job_lease_seconds,
        )

    async def drain(self, limit: int = 1000) -> int:
        """Run due jobs until none is left (or ``limit``); returns how many ran."""
        ran = 0
        while ran < limit and await self.run_once():
            ran += 1
        return ran

    async def _run(self, job: ClaimedJob) -> None:
        runner = self.runners.get(job.kind)
        started = time.perf_counter()
        outcome = "done"
        with bound_delivery(job.key):
            log.info("job %s started (attempt %d of %d)", job.key, job.attempts, job.max_attempts)
            lost = asyncio.Event()
            heartbeat = asyncio.create_task(self._keep_lease(job, lost, asyncio.current_task()))
            try:
                try:
                    if runner is None:
                        raise PermanentError(f"no runner for job kind {job.kind!r}")
                    # A hung call must not hold the job forever: give up and let it retry.
                    async with asyncio.timeout(self.settings.job_timeout_seconds):
                        await runner(job)
                finally:
                    # The work is over: the lease has nothing left to guard. Settling the
                    # job (done, deferred, failed) must not race a heartbeat that would find
                    # it settled, take that for a lost lease and cancel the settling.
                    heartbeat.cancel()
            except Defer as deferral:
                outcome = "deferred"
                until = deferral.until.timestamp()
                log.warning(
                    "job %s deferred until %s: %s",
                    job.key,
                    deferral.until.isoformat(timespec="seconds"),
                    deferral.reason,
                )
                await asyncio.to_thread(
                    queue.defer,
                    self.engine,
                    job=job,
                    worker=self.name,
                    until=until,
                    reason=deferral.reason,
                    now=self.clock(),
                )
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if lost.is_set() and current is not None and current.uncancel() == 0:
                    # Stopped by the heartbeat, not by a shutdown: the job may be another
                    # worker's by now, so it is left as it is (no complete, no release).
                    outcome = "lease-lost"
                    log.error(
                        "job %s stopped: its lease could not be kept, another worker may run "
                        "it; no further effect here",
                        job.key,
                    )
                    return
                outcome = "released"
                await asyncio.to_thread(
                    queue.release, self.engine, job=job, worker=self.name, now=self.clock()
                )
                raise
            except Exception as exc:
                outcome = await self._record_failure(job, exc)
            else:
                await asyncio.to_thread(
                    queue.complete, self.engine, job_id=job.id, worker=self.name, now=self.clock()
                )
                log.info("job %s done", job.key)
            finally:
                heartbeat.cancel()
                metrics.JOB_SECONDS.labels(job.kind, outcome).observe(time.perf_counter() - started)

    async def _keep_lease(
        self, job: ClaimedJob, lost: asyncio.Event, task: asyncio.Task[Any] | None
    ) -> None:
        """Extend the lease while the job runs, so no other worker takes it meanwhile.

        When the lease cannot be kept (the job is no longer this worker's, or the database
        stays unreachable until the lease is about to run out) the job is stopped before its
        next effect: after the lease another worker may claim it, and two running one job
        would send its effects twice.
        """
        lease = self.settings.job_lease_seconds
        held_until = self.clock() + lease
        while True:
            await self.sleep(lease / 3)
            now = self.clock()
            try:
                kept = await asyncio.to_thread(
                    queue.extend_lease,
                    self.engine,
                    job_id=job.id,
                    worker=self.name,
                    until=now + lease,
                    now=now,
                )
            except Exception:
                log.warning("could not extend the lease of job %s", job.key, exc_info=True)
                # Another failed try would come after the lease ran out: stop now.
                kept = now + lease / 3 < held_until
            else:
                if kept:
                    held_until = now + lease
            if not kept:
                lost.set()
                if task is not None:
                    task.cancel()
                return

    async def _record_failure(self, job: ClaimedJob, exc: Exception) -> str:
        error = f"{type(exc).__name__}: {exc}"
        retry_in = None
        if not isinstance(exc, PermanentError):
            retry_in = queue.backoff_seconds(
                job.attempts,
                base=self.settings.job_backoff_base_seconds,
                cap=self.settings.job_backoff_max_seconds,
                rng=self.rng,
            )
        status = await asyncio.to_thread(
            queue.fail,
            self.engine,
            job=job,
            worker=self.name,
            error=error,
            now=self.clock(),
            retry_in=retry_in,
        )
        if status == queue.DEAD:
            log.error(
                "job %s is dead after %d attempts: %s", job.key, job.attempts, error, exc_info=exc
            )
            return "dead"
        log.warning(
            "job %s failed (attempt %d of %d), retry in %.1fs: %s",
            job.key,
            job.attempts,
            job.max_attempts,
            retry_in or 0.0,
            error,
        )
        return "retry"

    async def run(self, stop: asyncio.Event) -> None:
        """Poll for jobs until ``stop`` is set, then finish or release what is in flight."""
        log.info("worker %s started", self.name)
        try:
            orphans = await asyncio.to_thread(
                queue.release_orphans,
                self.engine,
                host=socket.gethostname(),
                alive=process_alive,
                now=self.clock(),
                me=self.name,
            )
        except Exception:
            log.exception("could not look for jobs left by dead workers")
        else:
            if orphans:
                log.warning("%d job(s) of a worker that died on this host queued again", orphans)
        slots = asyncio.Semaphore(self.settings.worker_concurrency)
        tasks: set[asyncio.Task[None]] = set()
        wake = self.doorbell.attach() if self.doorbell is not None else None
        while not stop.is_set():
            await slots.acquire()
            try:
                job = await self._claim()
            except Exception:  # database unreachable: wait a poll interval and try again
                log.exception("worker could not claim a job")
                job = None
            if job is None:
                slots.release()
                await self._idle(stop, wake)
                continue
            task = asyncio.create_task(self._run(job))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            task.add_done_callback(lambda _task: slots.release())
        await self._shutdown(tasks)
        log.info("worker %s stopped", self.name)

    async def _idle(self, stop: asyncio.Event, wake: asyncio.Event | None) -> None:
        """Wait a poll interval, or less: until stopped, or until the doorbell rings."""
        waits = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(
                waits,
                timeout=self.settings.worker_poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for waiting in waits:
                waiting.cancel()
            if wake is not None:
                wake.clear()

    async def _shutdown(self, tasks: set[asyncio.Task[None]]) -> None:
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_seconds)
        for task in pending:
            task.cancel()  # _run releases the job on cancellation
        if pending:
            await asyncio.wait(pending)


def refresh_queue_metrics(engine: Engine) -> None:
    """Set the queue gauges from the table (called when /metrics is scraped).

    A read-only session: a scrape neither waits for intake's write lock nor holds it up.
    """
    now = time.time()
    with read_session(engine) as session:
        by_status = queue.counts(session)
        oldest = queue.oldest_due(session, now=now)
    metrics.QUEUE_DEPTH.set(by_status.get(queue.QUEUED, 0) + by_status.get(queue.RUNNING, 0))
    metrics.DEAD_JOBS.set(by_status.get(queue.DEAD, 0))
    metrics.OLDEST_PENDING.set(max(now - oldest, 0.0) if oldest is not None else 0.0)
