"""Audit-log events into the ledger: store once, decide notices, match policy overrides.

GitHub's ``pull_request`` webhook cannot say that a merge bypassed branch protection; the audit
log's ``protected_branch.policy_override`` can. An override is matched to the ledger's hotfix in
the same repository merged within ``audit.override_match_minutes``; the hotfix then reads
"bypass confirmed by the audit log". Either side may arrive first:

- the hotfix is already in the ledger when the event arrives: ``ingest`` confirms it at once;
- the event arrives first: ``ingest`` schedules an ``audit-correlate`` job that many minutes
  later. If the merge comes meanwhile, its handler calls ``claim_override_for`` which confirms
  the pair; when the job runs, ``settle_override`` finds the event claimed and does nothing,
  otherwise it announces the violation: a bypass outside the hotfix lane.

One audit event gets at most one notice (its key is ``audit-log:<reference>``), so an override
is either confirmed or a violation, never both: once the violation is announced, a late merge
does not claim the event. Every function runs in the caller's transaction; the caller commits.
Rows that two transactions may claim at once are read ``FOR UPDATE`` (PostgreSQL; SQLite runs
one writer at a time).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.jobs.queue import enqueue
from app.auditlog.decisions import (
    POLICY_OVERRIDE,
    audit_log_url,
    display_branch,
    notice_for,
)
from app.auditlog.events import AuditEntry, parse_entry
from app.ledger.records import confirm_by_audit_log, find_hotfix_near
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice, get_notice
from app.policy.model import Policy
from app.settings import Settings
from app.store.models import AuditEvent, HotfixRecord
from app.store.types import utcnow

log = logging.getLogger(__name__)

CORRELATE_JOB = "audit-correlate"


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
        if _decide(session, entry, row_id, settings=settings, policy=policy, now=now):
            queued += 1
    return IngestResult(stored=stored, duplicates=duplicates, notices=queued)


def _insert(session: Session, entry: AuditEntry, *, received_at: datetime) -> int | None:
    """Insert the event; its row id, or None if its ``_document_id`` is stored already."""
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    row = conn.execute(
        dialect.insert(AuditEvent)
        .values(
            document_id=entry.document_id,
            action=entry.action,
            org=entry.org,
            repo=entry.repo,
            actor=entry.actor,
            created_at=entry.created_at,
            received_at=received_at,
            body=entry.body,
        )
        .on_conflict_do_nothing(index_elements=["document_id"])
        .returning(col(AuditEvent.id))
    ).first()
    return None if row is None else int(row[0])


def _decide(
    session: Session,
    entry: AuditEntry,
    row_id: int,
    *,
    settings: Settings,
    policy: Policy,
    now: datetime,
) -> bool:
    """Queue the notice (or the delayed check) a new event calls for; True if a notice."""
    if entry.action == POLICY_OVERRIDE:
        return _correlate_new_override(
            session, entry, row_id, settings=settings, policy=policy, now=now
        )
    notice = notice_for(
        entry,
        bypass_team=policy.teams.bypass,
        link=audit_log_url(settings.github_api_url, entry.org),
    )
    if notice is None:
        return False
    return enqueue_notice(session, notice=notice, channel=audit_channel(settings, policy), now=now)


def _correlate_new_override(
    session: Session,
    entry: AuditEntry,
    row_id: int,
    *,
    settings: Settings,
    policy: Policy,
    now: datetime,
) -> bool:
    window = match_window(policy)
    if entry.repo is not None:
        hotfix = find_hotfix_near(
            session, repo_full_name=entry.repo, at=entry.created_at, within=window
        )
        if hotfix is not None and _still_unconfirmed(session, hotfix):
            return _confirm(
                session, entry, row_id, hotfix, settings=settings, policy=policy, now=now
            )
    # The merge may not be recorded yet (webhook and audit log race): look again later.
    run_at = now + window
    enqueue(
        session,
        kind=CORRELATE_JOB,
        key=f"{CORRELATE_JOB}:{row_id}",
        ref=str(row_id),
        now=now.timestamp(),
        run_at=run_at.timestamp(),
    )
    log.info(
        "policy override %s on %s matches no hotfix yet; checking again at %s",
        entry.reference,
        entry.repo or "-",
        run_at.isoformat(timespec="seconds"),
    )
    return False


def claim_override_for(
    session: Session,
    *,
    hotfix: HotfixRecord,
    settings: Settings,
    policy: Policy,
    now: datetime | None = None,
) -> bool:
    """Match an already-stored policy override to a hotfix just recorded; True if it did.

    Called by the merge handler right after ``record_hotfix``, in its transaction. The
    closest unmatched override in the same repository within ``override_match_minutes`` of
    the merge is linked, the hotfix confirmed and the "confirmed" notice queued; the event's
    pending ``audit-correlate`` check then finds it claimed. An override already announced as
    a violation is left alone (one event, one notice).
    """
    if hotfix.id is None or hotfix.audit_document_id is not None:
        return False
    window = match_window(policy)
    query = (
        select(AuditEvent)
        .where(
            col(AuditEvent.action) == POLICY_OVERRIDE,
            func.lower(col(AuditEvent.repo)) == hotfix.repo_full_name.lower(),
            col(AuditEvent.hotfix_id).is_(None),
            col(AuditEvent.created_at) >= hotfix.merged_at - window,
            col(AuditEvent.created_at) <= hotfix.merged_at + window,
        )
        .with_for_update()
    )
    candidates = sorted(session.exec(query), key=lambda row: abs(row.created_at - hotfix.merged_at))
    for row in candidates:
        entry = entry_of(row)
        if get_notice(session, key=notice_key(entry.reference)) is not None:
            continue  # already announced as a violation
        assert row.id is not None
        _confirm(
            session, entry, row.id, hotfix, settings=settings, policy=policy, now=now or utcnow()
        )
        return True
    return False


def settle_override(
    session: Session, *, event_id: int, settings: Settings, policy: Policy, now: datetime
) -> str:
    """The delayed check of an override that matched no hotfix when it arrived.

    Returns what happened: ``claimed`` (a merge matched it meanwhile: nothing more to do),
    ``confirmed`` (a matching hotfix is in the ledger now), ``violation`` (none is: the
    bypass was outside the hotfix lane) or ``missing`` (no such event).
    """
    row = session.exec(
        select(AuditEvent).where(col(AuditEvent.id) == event_id).with_for_update()
    ).first()
    if row is None:
        return "missing"
    if row.hotfix_id is not None:
        return "claimed"
    entry = entry_of(row)
    if entry.repo is not None:
        hotfix = find_hotfix_near(
            session, repo_full_name=entry.repo, at=entry.created_at, within=match_window(policy)
        )
        if hotfix is not None and _still_unconfirmed(session, hotfix):
            _confirm(session, entry, event_id, hotfix, settings=settings, policy=policy, now=now)
            return "confirmed"
    notice = notices.policy_override_unmatched(
        repo=entry.repo or "unknown",
        branch=_branch(entry),
        actor=entry.actor or "unknown",
        document_id=entry.reference,
        url=audit_log_url(settings.github_api_url, entry.org),
    )
    enqueue_notice(session, notice=notice, channel=audit_channel(settings, policy), now=now)
    log.warning(
        "policy override %s on %s by %s matches no hotfix: bypass outside the hotfix lane",
        entry.reference,
        entry.repo or "-",
        entry.actor or "-",
    )
    return "violation"


def _confirm(
    session: Session,
    entry: AuditEntry,
    row_id: int,
    hotfix: HotfixRecord,
    *,
    settings: Settings,
    policy: Policy,
    now: datetime,
) -> bool:
    """Link event and hotfix, mark the hotfix confirmed, queue the "confirmed" notice."""
    assert hotfix.id is not None
    session.connection().execute(
        update(AuditEvent).where(col(AuditEvent.id) == row_id).values(hotfix_id=hotfix.id)
    )
    confirm_by_audit_log(session, hotfix=hotfix, document_id=entry.reference, at=now)
    session.flush()
    notice = notices.policy_override_confirmed(
        repo=hotfix.repo_full_name,
        branch=_branch(entry),
        actor=entry.actor or hotfix.merged_by or "unknown",
        number=hotfix.number,
        document_id=entry.reference,
        url=hotfix.url or audit_log_url(settings.github_api_url, entry.org),
    )
    log.info(
        "policy override %s confirms hotfix %s#%d",
        entry.reference,
        hotfix.repo_full_name,
        hotfix.number,
    )
    return enqueue_notice(session, notice=notice, channel=audit_channel(settings, policy), now=now)


def _still_unconfirmed(session: Session, hotfix: HotfixRecord) -> bool:
    """Lock the hotfix row and re-read it: another event may have confirmed it meanwhile."""
    session.refresh(hotfix, with_for_update=True)
    return hotfix.audit_document_id is None


def entry_of(row: AuditEvent) -> AuditEntry:
    """The stored event, read back (it passed ``parse_entry`` when it was stored)."""
    # Keep the stored text: the reference of an event without a document id is its digest.
    return dataclasses.replace(parse_entry(orjson.loads(row.body)), body=row.body)


def match_window(policy: Policy) -> timedelta:
    return timedelta(minutes=policy.audit.override_match_minutes)


def notice_key(reference: str) -> str:
    """The outbox key of an audit event's notice (see ``notices._audit_notice``)."""
    return f"audit-log:{reference}"


def _branch(entry: AuditEntry) -> str:
    branch = entry.text("branch", "ref", "name")
    return display_branch(branch) if branch else "unknown branch"
