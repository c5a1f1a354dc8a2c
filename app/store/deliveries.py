"""Stored webhook deliveries: the durable record intake writes before answering."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from app.store.models import Delivery

# The job kind of a stored delivery, and its job's key: one job per delivery id.
DELIVERY_JOB = "delivery"


def delivery_job_key(delivery_id: str) -> str:
    """The key of a delivery's job (unique: a redelivery finds it and adds no second)."""
    return f"delivery:{delivery_id}"


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
