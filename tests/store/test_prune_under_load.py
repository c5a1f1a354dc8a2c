"""Retention under load: 100,000 old deliveries go in short batches while intake answers 2xx.

Nothing here is timed. That the write lock is only ever held briefly is shown by how
prune works: the test watches prune's own statements and transactions (at most ``BATCH``
rows per DELETE, one DELETE per transaction, each committed on its own), what another
connection sees meanwhile (the old rows going down one whole batch at a time), and
signed deliveries posted to the real app without a break, every one answered 202, stored
and committed between prune's batches. The longest batch is recorded, not asserted.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from app.settings import Settings
from app.store import migrate, prune
from app.store.db import make_engine, read_only
from app.store.models import Delivery, Job
from tests.conftest import load_fixture
from tests.harness import running_app

ROWS = 100_000
FILL_CHUNK = 5_000
SAMPLE_EVERY = 10  # prune transactions between two counts of the old rows left
NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=40)
CUTOFF = NOW - timedelta(days=30)
OLD_BODY = b'{"action": "opened"}' * 50
DELETE = re.compile(r"\s*DELETE FROM (\w+)", re.IGNORECASE)


def fill(engine: Engine, rows: int) -> None:
    """``rows`` deliveries received 40 days ago, each with its done job (as bench/prune.py)."""
    stamp = OLD.timestamp()
    with engine.begin() as conn:
        for start in range(0, rows, FILL_CHUNK):
            ids = [f"old-{n}" for n in range(start, min(start + FILL_CHUNK, rows))]
            conn.execute(
                insert(Delivery),
                [{"id": i, "event": "push", "received_at": OLD, "body": OLD_BODY} for i in ids],
            )
            conn.execute(
                insert(Job),
                [
                    {
                        "kind": "delivery", "key": f"delivery:{i}", "ref": i, "status": "done",
                        "run_at": stamp, "attempts": 1, "max_attempts": 8,
                        "created_at": stamp, "updated_at": stamp,
                    }
                    for i in ids
                ],
            )  # fmt: skip


def old_rows(engine: Engine) -> tuple[int, int]:
    """Old deliveries and done jobs left, as another connection sees them (committed)."""
    with read_only(engine).connect() as conn:
        deliveries = conn.execute(
            select(func.count()).select_from(Delivery).where(col(Delivery.received_at) < CUTOFF)
        ).scalar_one()
        # Every done job here is an old one (intake's are queued): counted on the index.
        jobs = conn.execute(
            select(func.count()).select_from(Job).where(col(Job.status) == "done")
        ).scalar_one()
    return int(deliveries), int(jobs)


@dataclass
class Trace:
    """Prune's transactions as its engine ran them: the DELETEs (table, rows) in each."""

    transactions: list[list[tuple[str, int]]] = field(default_factory=list)
    open: bool = False
    committed: int = 0  # read by the intake loop: prune's transactions committed so far

    def watch(self, engine: Engine) -> None:
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._commit)

    def _begin(self, _conn: object) -> None:
        assert not self.open, "a prune transaction began inside another"
        self.open = True
        self.transactions.append([])

    def _executed(self, _conn: object, cursor: Any, statement: str, *_args: object) -> None:
        deleted = DELETE.match(statement)
        if deleted is not None:
            assert self.open, "a prune DELETE ran outside a transaction"
            self.transactions[-1].append((deleted.group(1).lower(), cursor.rowcount))

    def _commit(self, _conn: object) -> None:
        self.open = False
        self.committed += 1

    def deletes(self, table: str) -> list[int]:
        return [rows for batch in self.transactions for name, rows in batch if name == table]


async def test_a_big_backlog_is_pruned_in_batches_while_intake_keeps_answering(
    database_url: str,
    make_settings: Callable[..., Settings],
    record_property: Callable[[str, object], None],
) -> None:
    setup = make_engine(database_url)
    migrate.upgrade(setup)
    fill(setup, ROWS)
    setup.dispose()
    # Prune on a thread and connections of its own, as the worker's store-prune job; an
    # engine of its own too, so that the trace sees prune's statements and nothing else.
    pruner = make_engine(database_url, background_checkpoint=True)
    observer = make_engine(database_url)
    trace = Trace()
    trace.watch(pruner)
    payload = load_fixture("pull_request.opened")
    answered: list[tuple[str, int]] = []  # (delivery, prune transactions committed by then)
    statuses: list[int] = []
    seen = [old_rows(observer)]
    assert seen == [(ROWS, ROWS)]
    outcome: list[prune.Pruned | BaseException] = []

    def run_prune() -> None:
        try:
            outcome.append(prune.prune(pruner, before=CUTOFF))
        except BaseException as exc:
            outcome.append(exc)

    async with running_app(make_settings(database_url=database_url)) as app:
        pruning = threading.Thread(target=run_prune, name="prune")
        pruning.start()
        n = sampled = 0
        while pruning.is_alive():
            delivery = f"new-{n}"
            n += 1
            response = await app.post_webhook("pull_request", payload, delivery)
            statuses.append(response.status_code)
            if response.is_success:
                answered.append((delivery, trace.committed))
            if trace.committed >= sampled + SAMPLE_EVERY:  # counting costs ms: not every time
                sampled = trace.committed
                seen.append(old_rows(observer))
        pruning.join()

    [result] = outcome
    if isinstance(result, BaseException):
        raise result
    seen.append(old_rows(observer))
    with read_only(observer).connect() as conn:
        stored = set(conn.execute(select(col(Delivery.id))).scalars())
        new_jobs = set(
            conn.execute(select(col(Job.key)).where(col(Job.key).like("delivery:new-%"))).scalars()
        )
    pruner.dispose()
    observer.dispose()
    gaps = {committed for _, committed in answered if 0 < committed < len(result.batches)}
    longest_ms = round(result.longest_batch * 1000, 1)
    record_property("longest_batch_ms", longest_ms)
    record_property("prune_batches", len(result.batches))
    record_property("intake_deliveries", len(statuses))
    record_property("batch_gaps_with_intake", len(gaps))
    print(
        f"\n{database_url.split(':')[0]}: {len(result.batches)} prune batches, longest "
        f"{longest_ms} ms; {len(statuses)} deliveries posted meanwhile, answered in "
        f"{len(gaps)} of the gaps between batches"
    )

    # Intake kept answering, and what it answered is stored, with its job.
    assert statuses, "prune finished before a single delivery was posted"
    assert set(statuses) == {202}, sorted(set(statuses))
    assert stored == {delivery for delivery, _ in answered}  # and no old one is left
    assert new_jobs == {f"delivery:{delivery}" for delivery, _ in answered}

    # Everything old went, in batches of at most BATCH rows, each its own transaction.
    assert (result.deliveries, result.jobs) == (ROWS, ROWS)
    assert seen[-1] == (0, 0)
    for table in ("delivery", "job"):
        deletes = trace.deletes(table)
        assert sum(deletes) == ROWS
        assert max(deletes) <= prune.BATCH
        assert len(deletes) >= ROWS // prune.BATCH
    assert all(len(batch) <= 1 for batch in trace.transactions)  # one DELETE per transaction
    assert len(trace.transactions) == len(result.batches) == trace.committed
    assert not trace.open

    # Another connection saw the old rows go down batch by batch: every count it read was a
    # whole number of committed batches, never one half done.
    assert seen == sorted(seen, reverse=True)
    assert all(d % prune.BATCH == 0 and j % prune.BATCH == 0 for d, j in seen)
    assert len(set(seen)) > 2, seen

    # Intake's deliveries were committed between prune's batches, not only before or after.
    assert len(gaps) > 1, "no delivery was answered while prune was part way through"
