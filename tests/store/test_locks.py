"""Locks across processes: two engines on one PostgreSQL stand for two replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from app.store import locks
from app.store.db import make_engine


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    made = [make_engine(database_url), make_engine(database_url)]
    yield made
    for engine in made:
        engine.dispose()


async def test_a_second_replica_waits_for_the_first_to_release(engines: list[Engine]) -> None:
    first, second = engines
    order: list[str] = []
    inside = asyncio.Event()
    leave = asyncio.Event()

    async def one() -> None:
        async with locks.held(first, "pr:acme/api#7"):
            order.append("first in")
            inside.set()
            await leave.wait()
            order.append("first out")

    async def two() -> None:
        await inside.wait()
        async with locks.held(second, "pr:acme/api#7"):
            order.append("second in")

    tasks = [asyncio.create_task(one()), asyncio.create_task(two())]
    await asyncio.wait_for(inside.wait(), 10)
    if first.dialect.name == "sqlite":
        # One process: no lock across processes, the second goes straight in.
        await asyncio.wait_for(tasks[1], 10)
        assert order == ["first in", "second in"]
    leave.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)

    if first.dialect.name == "postgresql":
        # Exclusion itself is shown below (the waiter gives up while the lock is held).
        assert order == ["first in", "first out", "second in"]


async def test_other_names_do_not_wait(engines: list[Engine]) -> None:
    first, second = engines
    async with locks.held(first, "pr:acme/api#7"):
        async with asyncio.timeout(10):
            async with locks.held(second, "pr:acme/api#8"):
                pass


async def test_a_lock_held_too_long_is_given_up_for_a_retry(engines: list[Engine]) -> None:
    first, second = engines
    if first.dialect.name == "sqlite":
        pytest.skip("SQLite serves one process: there is no lock across processes to wait for")
    async with locks.held(first, "publish:acme/api@f00d"):
        with pytest.raises(locks.LockTimeout):
            async with locks.held(second, "publish:acme/api@f00d", wait_seconds=0.2):
                pass


def test_keys_are_stable_signed_64_bit_numbers() -> None:
    key = locks.lock_key("pr:acme/api#7")
    assert key == locks.lock_key("pr:acme/api#7") != locks.lock_key("pr:acme/api#8")
    assert -(2**63) <= key < 2**63
