"""Matching ``protected_branch.policy_override`` events to the hotfixes in the ledger.

GitHub's ``pull_request`` webhook cannot say that a merge bypassed branch protection; the audit
log's ``protected_branch.policy_override`` can. An override is matched to the ledger's hotfix in
the same repository merged within ``audit.override_match_minutes``; the hotfix then reads
"bypass confirmed by the audit log". Either side may arrive first:

- the hotfix is already in the ledger when the event arrives: ``ingest`` confirms it at once;
- the event arrives first: an ``audit-correlate`` job is scheduled that many minutes later. If
  the merge comes meanwhile, its ``hotfix-recorded`` job calls ``claim_override_for``, which
  confirms the pair; when the correlate job runs, ``settle_override`` finds the event claimed
  and does nothing, otherwise it announces the violation: a bypass outside the hotfix lane.

One audit event gets at most one notice (its key is ``audit-log:<reference>``), so an override
is either confirmed or a violation, never both: once the violation is announced, a late merge
does not claim the event. Every function runs in the caller's transaction; the caller commits.
Rows that two transactions may claim at once are read ``FOR UPDATE`` (PostgreSQL; SQLite runs
one writer at a time).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

import orjson
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.auditlog.decisions import POLICY_OVERRIDE, audit_log_url, display_branch
from app.auditlog.events import AuditEntry, parse_entry
from app.jobs.queue import enqueue
from app.ledger.records import confirm_by_audit_log, find_hotfix_near
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice, get_notice
from app.policy.model import Policy
from app.settings import Settings
from app.store.models import AuditEvent, HotfixRecord

log = logging.getLogger(__name__)

CORRELATE_JOB = "audit-correlate"


def correlate_new_override(
    session: Session,
    entry: AuditEntry,
    row_id: int,
    *,
    settings: Settings,
    policy: Policy,
    now: datetime,
) -> bool:
    """Confirm the hotfix a new override matches, or look again later; True if a notice."""
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
    now: datetime,
) -> bool:
    """Match an already-stored policy override to a hotfix just recorded; True if it did.

    Called by the ``hotfix-recorded`` job of a hotfix just recorded. The
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
        _confirm(session, entry, row.id, hotfix, settings=settings, policy=policy, now=now)
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
