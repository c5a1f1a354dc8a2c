"""Stored deliveries for people: what ``hotfix-lane deliveries list|show`` print.

A delivery is on disk the moment intake answers 2xx; these views say what became of it (its
job's state, attempts and last error), so an operator can see why a PR was not evaluated and
replay it.
"""

from __future__ import annotations

import json

from sqlmodel import Session

from app.jobs import queue
from app.store.deliveries import delivery_job_key, get_delivery, list_deliveries


def listing(session: Session, *, limit: int) -> list[str]:
    """The newest deliveries, one line each, with their job's state."""
    lines = [f"{'DELIVERY':<38} {'RECEIVED (UTC)':<20} {'EVENT':<28} {'REPOSITORY':<30} JOB"]
    for d in list_deliveries(session, limit=limit):
        job = queue.get(session, key=delivery_job_key(d.id))
        status = f"{job.status} ({job.attempts} tries)" if job else "-"
        event = f"{d.event}.{d.action}" if d.action else d.event
        lines.append(
            f"{d.id:<38} {d.received_at:%Y-%m-%d %H:%M:%S}  {event:<28} "
            f"{d.repository or '-':<30} {status}"
        )
    return lines


def listing_json(session: Session, *, limit: int) -> str:
    """The newest deliveries with their job's state, as a JSON list."""
    rows = []
    for d in list_deliveries(session, limit=limit):
        job = queue.get(session, key=delivery_job_key(d.id))
        rows.append(
            {
                "delivery": d.id,
                "received_at": d.received_at.isoformat(),
                "event": d.event,
                "action": d.action,
                "repository": d.repository,
                "job": None if job is None else {"status": job.status, "attempts": job.attempts},
            }
        )
    return json.dumps(rows, indent=2)


def details(session: Session, *, delivery_id: str, body: bool) -> list[str] | None:
    """One delivery and its job as JSON (and its raw body); None when it is not stored."""
    delivery = get_delivery(session, delivery_id=delivery_id)
    if delivery is None:
        return None
    job = queue.get(session, key=delivery_job_key(delivery.id))
    shown = {
        "delivery": delivery.id,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository": delivery.repository,
        "received_at": delivery.received_at.isoformat(),
        "bytes": len(delivery.body),
        "job": None
        if job is None
        else {
            "status": job.status,
            "attempts": job.attempts,
            "max_attempts": job.max_attempts,
            "last_error": job.last_error,
        },
    }
    lines = [json.dumps(shown, indent=2)]
    if body:
        lines.append(delivery.body.decode("utf-8", "replace"))
    return lines
