"""Storing webhook deliveries with their jobs: intake's write, on its hot path.

A delivery and its ``delivery`` job land in one transaction, so a stored delivery always
has a job and a redelivery (same ``X-GitHub-Delivery``) gets none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import col

from app.jobs.queue import QUEUED, enqueue_many
from app.store.deliveries import DELIVERY_JOB, delivery_job_key
from app.store.models import Delivery
from app.store.upsert import insert_ignoring_conflict


def insert_deliveries(
    conn: Connection, rows: Sequence[dict[str, Any]], *, now: float, max_attempts: int
) -> set[str]:
    """Store deliveries and a job for each new one, in the caller's transaction.

    Returns the ids that were new; ids already stored (GitHub redeliveries keep the
    ``X-GitHub-Delivery`` id) are skipped and get no second job.
    """
    if not rows:
        return set()
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return insert_deliveries_sqlite(driver, rows, now=now, max_attempts=max_attempts)
    new = set(
        insert_ignoring_conflict(
            conn, Delivery, list(rows), unique=["id"], returning=col(Delivery.id)
        )
    )
    enqueue_many(
        conn,
        (
            {
                "kind": DELIVERY_JOB,
                "key": delivery_job_key(d),
                "ref": d,
                "max_attempts": max_attempts,
            }
            for d in sorted(new)
        ),
        now=now,
    )
    return new


# The SQLite path is intake's hot path, so it talks to the driver directly: SQLAlchemy's
# statement compilation and per-row bind processing cost more than SQLite's own insert.
# The columns and values must stay what the models (and ``queue.enqueue_many``) would write;
# tests/intake/test_store.py compares the two.
_SELECT_EXISTING = "SELECT id FROM delivery WHERE id IN ({})"
_INSERT_DELIVERY = (
    "INSERT INTO delivery (id, event, action, installation_id, repository, received_at, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)
_INSERT_JOB = (
    "INSERT INTO job (kind, key, ref, status, run_at, attempts, max_attempts, created_at,"
    f" updated_at) VALUES ('{DELIVERY_JOB}', ?, ?, '{QUEUED}', ?, 0, ?, ?, ?)"
    " ON CONFLICT (key) DO NOTHING"
)
_ID_CHUNK = 500  # ids per existence query, well under SQLite's bound-parameter limit


def insert_deliveries_sqlite(
    db: sqlite3.Connection, rows: Sequence[dict[str, Any]], *, now: float, max_attempts: int
) -> set[str]:
    """``insert_deliveries`` on a raw SQLite connection that holds the write lock.

    The caller must have started the transaction with ``BEGIN IMMEDIATE``: no other
    connection can then insert between the existence check and the insert, so the ids not
    found are exactly the ids this call stores.
    """
    ids = [row["id"] for row in rows]
    seen: set[str] = set()
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        query = _SELECT_EXISTING.format(",".join("?" * len(chunk)))
        seen.update(found for (found,) in db.execute(query, chunk))
    new: list[str] = []
    values: list[tuple[Any, ...]] = []
    for row in rows:
        delivery = row["id"]
        if delivery in seen:
            continue
        seen.add(delivery)  # the first of two rows with one id wins, as with ON CONFLICT
        new.append(delivery)
        values.append(
            (
                delivery,
                row["event"],
                row.get("action"),
                row.get("installation_id"),
                row.get("repository"),
                sqlite_utc_text(row["received_at"]),
                row["body"],
            )
        )
    if values:
        db.executemany(_INSERT_DELIVERY, values)
        # Jobs in arrival order, so the worker takes deliveries first come, first served.
        db.executemany(
            _INSERT_JOB, [(delivery_job_key(d), d, now, max_attempts, now, now) for d in new]
        )
    return set(new)


def sqlite_utc_text(value: datetime) -> str:
    """A UTC datetime as ``UTCDateTime`` stores it on SQLite (naive, microseconds always)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")
