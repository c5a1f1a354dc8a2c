"""Stored webhook deliveries: the durable record intake writes before answering."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from app.jobs.queue import QUEUED, enqueue_many
from app.store.models import Delivery


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
    stmt = (
        postgresql.insert(Delivery)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(col(Delivery.id))
    )
    new = {row[0] for row in conn.execute(stmt, list(rows))}
    enqueue_many(
        conn,
        (
            {"kind": "delivery", "key": f"delivery:{d}", "ref": d, "max_attempts": max_attempts}
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
    f" updated_at) VALUES ('delivery', ?, ?, '{QUEUED}', ?, 0, ?, ?, ?)"
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
            _INSERT_JOB, [(f"delivery:{d}", d, now, max_attempts, now, now) for d in new]
        )
    return set(new)


def sqlite_utc_text(value: datetime) -> str:
    """A UTC datetime as ``UTCDateTime`` stores it on SQLite (naive, microseconds always)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def get_delivery(session: Session, *, delivery_id: str) -> Delivery | None:
    """One stored delivery by its GitHub delivery id."""
    return session.get(Delivery, delivery_id)


def list_deliveries(
    session: Session, *, limit: int = 50, since: datetime | None = None
) -> list[Delivery]:
    """The newest deliveries first (without loading bodies lazily elsewhere)."""
    query = select(Delivery).order_by(col(Delivery.received_at).desc()).limit(limit)
    if since is not None:
        query = query.where(col(Delivery.received_at) >= since)
    return list(session.execute(query).scalars())
