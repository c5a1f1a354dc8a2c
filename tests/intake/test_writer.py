"""Group commit: concurrent deliveries share one transaction, a failed batch is not acknowledged."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app.intake import writer as writer_module
from app.intake.deliveries import insert_deliveries_sqlite
from app.intake.writer import DeliveryWriter, StoreUnavailable
from app.store.models import Delivery, Job
from tests.fakes.clock import FakeClock
from tests.rows import delivery_row as row


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        deliveries = session.exec(select(func.count()).select_from(Delivery)).one()
        jobs = session.exec(select(func.count()).select_from(Job)).one()
    return deliveries, jobs


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The ids of each batch the SQLite writer commits."""
    seen: list[list[str]] = []

    def spy(db: Any, rows: Sequence[dict[str, Any]], **kwargs: Any) -> set[str]:
        seen.append([r["id"] for r in rows])
        return insert_deliveries_sqlite(db, rows, **kwargs)

    monkeypatch.setattr(writer_module, "insert_deliveries_sqlite", spy)
    yield seen


async def test_concurrent_deliveries_are_committed_in_one_transaction(
    engine: Engine, batches: list[list[str]]
) -> None:
    writer = DeliveryWriter(engine, max_attempts=3, clock=FakeClock())
    writer.start()

    results = await asyncio.gather(*(writer.store(row(f"d-{i}")) for i in range(10)))
    await writer.stop()

    assert results == [True] * 10
    assert counts(engine) == (10, 10)
    if writer.inline:
        assert batches == [[f"d-{i}" for i in range(10)]]


async def test_a_duplicate_in_the_same_batch_is_not_new(engine: Engine) -> None:
    writer = DeliveryWriter(engine, max_attempts=3, clock=FakeClock())
    writer.start()

    results = list(await asyncio.gather(writer.store(row("same")), writer.store(row("same"))))
    again = await writer.store(row("same"))
    await writer.stop()

    assert results == [True, False]
    assert again is False
    assert counts(engine) == (1, 1)


async def test_a_failed_batch_answers_every_request_unavailable_and_the_next_one_works(
    engine: Engine,
) -> None:
    writer = DeliveryWriter(engine, max_attempts=3, clock=FakeClock())
    writer.start()

    # A value the database cannot take fails the whole transaction, not only its own row.
    failed = await asyncio.gather(
        writer.store(row("ok-1")),
        writer.store(row("too-big", installation_id=2**70)),
        return_exceptions=True,
    )
    after = await writer.store(row("ok-2"))
    await writer.stop()

    assert all(isinstance(result, StoreUnavailable) for result in failed)
    assert after is True
    with Session(engine) as session:
        assert [d.id for d in session.exec(select(Delivery))] == ["ok-2"]
    assert counts(engine) == (1, 1)


async def test_a_stopped_writer_refuses_deliveries(engine: Engine) -> None:
    writer = DeliveryWriter(engine, max_attempts=3, clock=FakeClock())
    writer.start()
    assert await writer.store(row("before")) is True
    await writer.stop()

    with pytest.raises(StoreUnavailable):
        await writer.store(row("after"))
    assert counts(engine) == (1, 1)
