"""Audit-log events in: store each once, post the notice it calls for at once, and match a
policy override to its hotfix.

``POST /api/audit-log`` and the poller both hand their events here, so both paths store,
deduplicate and decide alike. Policy overrides are matched to hotfixes in ``correlate``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col

from app.auditlog.correlate import correlate_new_override
from app.auditlog.decisions import POLICY_OVERRIDE, audit_log_url, notice_for
from app.auditlog.events import AuditEntry
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.model import Policy
from app.settings import Settings
from app.store.models import AuditEvent
from app.store.upsert import insert_ignoring_conflict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    """What one batch of events did: rows stored, events already stored, notices queued."""

    stored: int
    duplicates: int
    notices: int


def ingest(
    session: Session,
    *,
    entries: Iterable[AuditEntry],
    settings: Settings,
    policy: Policy,
    now: datetime,
) -> IngestResult:
    """Store every event not stored before and queue what it calls for.

    Events are deduplicated on ``_document_id``, within the batch and against the table;
    events without one are all stored. Runs in the caller's transaction: a batch is stored
    whole or not at all.
    """
    stored = duplicates = queued = 0
    seen: set[str] = set()
    for entry in entries:
        if entry.document_id is not None:
            if entry.document_id in seen:
                duplicates += 1
                continue
            seen.add(entry.document_id)
        row_id = _insert(session, entry, received_at=now)
        if row_id is None:
            duplicates += 1
            continue
        stored += 1
        queued += _decide(session, entry, row_id, settings=settings, policy=policy, now=now)
    return IngestResult(stored=stored, duplicates=duplicates, notices=queued)


def _insert(session: Session, entry: AuditEntry, *, received_at: datetime) -> int | None:
    """Insert the event; its row id, or None if its ``_document_id`` is stored already."""
    inserted = insert_ignoring_conflict(
        session.connection(),
        AuditEvent,
        {
            "document_id": entry.document_id,
            "action": entry.action,
            "org": entry.org,
            "repo": entry.repo,
            "actor": entry.actor,
            "created_at": entry.created_at,
            "received_at": received_at,
            "body": entry.body,
        },
        unique=["document_id"],
        returning=col(AuditEvent.id),
    )
    return int(inserted[0]) if inserted else None


def _decide(
    session: Session,
    entry: AuditEntry,
    row_id: int,
    *,
    settings: Settings,
    policy: Policy,
    now: datetime,
) -> int:
    """Queue the notice a new event calls for, and an override's match or its delayed check;
    how many notices were queued."""
    notice = notice_for(
        entry,
        bypass_team=policy.teams.bypass,
        link=audit_log_url(settings.github_api_url, entry.org),
    )
    if notice is None:
        return 0
    channel = audit_channel(settings, policy)
    if not enqueue_notice(session, notice=notice, channel=channel, now=now):
        # The same event stored again (no ``_document_id``: the same content): it was posted
        # and correlated the first time.
        return 0
    if entry.action != POLICY_OVERRIDE:
        return 1
    confirmed = correlate_new_override(
        session, entry, row_id, settings=settings, policy=policy, now=now
    )
    return 1 + confirmed
