"""Stored webhook deliveries: the durable record intake writes before answering."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from app.jobs.queue import enqueue_many
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
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(Delivery)
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
