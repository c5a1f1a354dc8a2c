"""Group commit for webhook intake: many deliveries, one transaction, every answer after it.

A request adds its delivery to the pending batch and waits. One flush at a time takes the
whole batch, stores it in one transaction, and only then wakes the requests, so a 2xx still
means "committed" while a burst of deliveries costs one commit instead of hundreds.

On SQLite the flush runs on the event loop itself: the commit is CPU work in this process
(WAL, no fsync per commit), so a thread would add GIL hand-offs and buy nothing. Requests that
arrive meanwhile wait in the socket buffers and form the next batch. The writer keeps one
connection of its own and drives the driver directly (``BEGIN IMMEDIATE`` … ``COMMIT``): per
batch, SQLAlchemy's pool checkout and statement compilation cost more than the insert.
On PostgreSQL the commit waits on the network, so it runs on a thread while the loop keeps
accepting.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from app.clock import Clock
from app.intake.deliveries import insert_deliveries, insert_deliveries_sqlite
from app.store.db import is_sqlite

log = logging.getLogger(__name__)

_Pending = tuple[dict[str, Any], "asyncio.Future[bool]"]
_GATHER_TURNS = 4  # at most this many loop turns between the first request and its commit


class StoreUnavailable(Exception):
    """The database refused the batch; the request must not be acknowledged."""


class DeliveryWriter:
    """Batches deliveries from concurrent requests into single transactions."""

    def __init__(
        self, engine: Engine, *, max_attempts: int, clock: Clock, max_batch: int = 512
    ) -> None:
        self.clock = clock
        self.engine = engine
        self.max_attempts = max_attempts
        self.max_batch = max_batch
        self.inline = is_sqlite(engine)
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._open = False
        self._sqlite: PoolProxiedConnection | None = None  # the inline writer's connection

    def start(self) -> None:
        self._open = True

    async def stop(self) -> None:
        """Refuse new deliveries and wait for the batch being committed."""
        self._open = False
        if self._flusher is not None:
            await self._flusher
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

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
                if self.inline:
                    await self._gather()
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                rows = [row for row, _future in batch]
                try:
                    if self.inline:
                        new = self._commit_sqlite(rows)
                    else:
                        new = await asyncio.to_thread(self._commit, rows)
                except Exception as exc:
                    log.exception("could not store %d deliveries", len(batch))
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    _settle_error(batch, StoreUnavailable(reason))
                else:
                    _settle(batch, new)
        finally:
            self._flusher = None

    async def _gather(self) -> None:
        """Let the requests already in hand join the batch before it is committed.

        An inline commit blocks the loop, so whatever is readable in the sockets or halfway
        through intake would otherwise wait for the next batch and commit of its own. Each
        loop turn reads what arrived and runs those requests up to ``store``; stop as soon as
        a turn adds nothing. At concurrency 8 this makes batches of ~8 instead of ~3, for one
        or two loop turns of latency.
        """
        for _ in range(_GATHER_TURNS):
            waiting = len(self._pending)
            await asyncio.sleep(0)
            if len(self._pending) == waiting or len(self._pending) >= self.max_batch:
                return

    def _commit(self, rows: list[dict[str, Any]]) -> set[str]:
        unique = list({row["id"]: row for row in reversed(rows)}.values())
        with self.engine.begin() as conn:
            return insert_deliveries(
                conn, unique, now=self.clock.timestamp(), max_attempts=self.max_attempts
            )

    def _commit_sqlite(self, rows: list[dict[str, Any]]) -> set[str]:
        if self._sqlite is None:
            self._sqlite = self.engine.raw_connection()
        connection = self._sqlite
        db = connection.driver_connection
        assert isinstance(db, sqlite3.Connection)
        try:
            db.execute("BEGIN IMMEDIATE")
            new = insert_deliveries_sqlite(
                db, rows, now=self.clock.timestamp(), max_attempts=self.max_attempts
            )
            db.execute("COMMIT")
        except BaseException:
            # Closing the driver connection rolls back whatever was begun; the next batch
            # starts on a fresh connection.
            self._sqlite = None
            connection.invalidate()
            raise
        return new


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
