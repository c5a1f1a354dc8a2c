"""Locks across processes: PostgreSQL advisory locks, for replicas sharing one database.

Several API replicas and workers evaluate and publish on one PostgreSQL; an in-process lock
cannot stop two of them publishing for one pull request at once (two check runs, an older
verdict last). ``held(engine, name)`` takes a session-level advisory lock on a connection of
its own, in autocommit (no transaction stays open while the holder talks to GitHub), and
releases it at the end. SQLite serves one process, whose in-process locks suffice: nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

# How long a holder is waited for before the job gives up (and its retry tries again).
WAIT_SECONDS = 120.0
_POLL_SECONDS = 0.05


class LockTimeout(Exception):
    """Another process held the lock for longer than ``WAIT_SECONDS``."""


def lock_key(name: str) -> int:
    """A signed 64-bit key for ``name`` (what ``pg_advisory_lock`` takes)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def held(
    engine: Engine, name: str, *, wait_seconds: float = WAIT_SECONDS
) -> AsyncIterator[None]:
    """Hold the cross-process lock ``name`` for the block (nothing on SQLite)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = lock_key(name)
    conn = await asyncio.to_thread(_connect, engine)
    taken = False
    try:
        deadline = time.monotonic() + wait_seconds
        while not (taken := await asyncio.to_thread(_try_lock, conn, key)):
            if time.monotonic() > deadline:
                raise LockTimeout(f"{name} held elsewhere for over {wait_seconds:g} s")
            await asyncio.sleep(_POLL_SECONDS)
        yield
    finally:
        await asyncio.to_thread(_release, conn, key if taken else None)


def _connect(engine: Engine) -> Connection:
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _try_lock(conn: Connection, key: int) -> bool:
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())


def _release(conn: Connection, key: int | None) -> None:
    try:
        if key is not None:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except Exception:
        # A connection that may still hold the lock must not go back to the pool: closing
        # it for good ends the session, and PostgreSQL frees the lock with it.
        conn.invalidate()
        raise
    finally:
        conn.close()
