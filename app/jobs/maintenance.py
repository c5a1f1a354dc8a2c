"""The store's upkeep as a recurring job: prune what is past ``HOTFIX_LANE_RETENTION_DAYS``,
hourly and once across processes (``app.store.prune`` says what is kept)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from app.jobs.queue import ClaimedJob
from app.jobs.recurring import Recurring, every
from app.store.prune import prune

log = logging.getLogger(__name__)

PRUNE_JOB = "store-prune"
PRUNE = Recurring(PRUNE_JOB, every(60))


class PruneRunner:
    """``store-prune``: queue the next hour's run, then prune in short batches."""

    def __init__(
        self, engine: Engine, *, retention_days: int, clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.retention = timedelta(days=retention_days)
        self.clock = clock

    async def __call__(self, job: ClaimedJob) -> None:
        now = self.clock()
        PRUNE.queue_next_now(self.engine, now=now)
        pruned = await asyncio.to_thread(prune, self.engine, before=now - self.retention)
        if pruned.deliveries or pruned.jobs or pruned.evaluations:
            log.info(
                "pruned %d deliveries, %d done jobs, %d superseded evaluations "
                "(longest batch %.0f ms)",
                pruned.deliveries,
                pruned.jobs,
                pruned.evaluations,
                pruned.longest_batch * 1000,
            )
