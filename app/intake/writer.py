"""Group commit for webhook intake: many deliveries, one transaction, every answer after it.

A request adds its delivery to the pending batch and waits. One flush at a time takes the
whole batch, stores it in one transaction, and only then wakes the requests, so a 2xx still
means "committed" while a burst of deliveries costs one commit instead of hundreds.

On SQLite the flush runs on the event loop itself: the commit is CPU work in this process
(WAL, no fsync per commit), so a thread would add GIL hand-offs and buy nothing. Requests that
arrive meanwhile wait in the socket buffers and form the next batch. On PostgreSQL the commit
waits on the network, so it runs on a thread while the loop keeps accepting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy.engine import Engine

from app.store.db import is_sqlite
from app.store.deliveries import insert_deliveries

log = logging.getLogger(__name__)

_Pending = tuple[dict[str, Any], "asyncio.Future[bool]"]


class StoreUnavailable(Exception):
    """The database refused the batch; the request must not be acknowledged."""


class DeliveryWriter:
    """Batches deliveries from concurrent requests into single transactions."""

    def __init__(self, engine: Engine, *, max_attempts: int, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.max_batch = max_batch
        self.inline = is_sqlite(engine)
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._open = False

    def start(self) -> None:
        self._open = True

    async def stop(self) -> None:
        """Refuse new deliveries and wait for the batch being committed."""
        self._open = False
        if self._flusher is not None:
            await self._flusher

    async def store(self, row: dict[str, Any]) -> bool:
        """Store one delivery; True if new, False if its id was already stored."""
        if not self._open:
            raise StoreUnavailable("intake is shutting down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((row, future))
        if self._flusher is None:
            # Scheduled, not run: the other requests already readable in this loop turn
            # join the batch first.
            self._flusher = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                rows = [row for row, _future in batch]
                try:
                    if self.inline:
                        new = self._commit(rows)
                    else:
                        new = await asyncio.to_thread(self._commit, rows)
                except Exception as exc:
                    log.exception("could not store %d deliveries", len(batch))
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    _settle_error(batch, StoreUnavailable(reason))
                else:
                    _settle(batch, new)
                if self.inline:
                    # Let the requests that arrived during the commit join the next batch.
                    await asyncio.sleep(0)
        finally:
            self._flusher = None

    def _commit(self, rows: list[dict[str, Any]]) -> set[str]:
        unique = list({row["id"]: row for row in reversed(rows)}.values())
        with self.engine.begin() as conn:
            return insert_deliveries(conn, unique, now=time.time(), max_attempts=self.max_attempts)


def _settle(batch: list[_Pending], new: set[str]) -> None:
    first: set[str] = set()
    for row, future in batch:
        # The first request with a new id is "new"; a duplicate in the same batch is not.
        delivery = row["id"]
        is_new = delivery in new and delivery not in first
        if is_new:
            first.add(delivery)
        if not future.done():  # done = the request was cancelled (client went away)
            future.set_result(is_new)


def _settle_error(batch: list[_Pending], error: StoreUnavailable) -> None:
    for _row, future in batch:
        if not future.done():
            future.set_exception(error)
