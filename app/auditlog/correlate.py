"""Matching ``protected_branch.policy_override`` events to the hotfixes in the ledger.

GitHub's ``pull_request`` webhook cannot say that a merge bypassed branch protection; the audit
log's ``protected_branch.policy_override`` can. Every override is posted when it arrives
(``decisions.notice_for``); this module decides its outcome, answered in the override's
thread. An override matches the ledger's hotfix that

- is in the same repository and was merged into the same branch (the override's ``branch``,
  ``refs/heads/main``, against the hotfix's ``base_ref``, ``main``),
- was judged a bypass at merge (``bypassed``): a merge that needed no bypass cannot be what
  the override was for,
- was merged within ``audit.override_match_minutes`` of the override, closest first, and is
  not confirmed by another override yet.

The hotfix then reads "bypass confirmed by the audit log". Either side may arrive first:

- the hotfix is already in the ledger when the event arrives: ``ingest`` confirms it at once;
- the event arrives first: an ``audit-correlate`` job is scheduled that many minutes later. If
  the merge comes meanwhile, its ``hotfix-recorded`` job calls ``claim_override_for``, which
  confirms the pair; when the correlate job runs, ``settle_override`` finds the event claimed
  and does nothing, otherwise it announces the violation: a bypass outside the hotfix lane.

One audit event gets at most one outcome (its key is ``audit-outcome:<reference>``, unique in
the outbox), so an override is either confirmed or a violation, never both: once the violation
is announced, a late merge does not claim the event. Every function runs in the caller's
transaction; the caller commits. Rows that two transactions may claim at once are read
``FOR UPDATE`` (PostgreSQL; SQLite runs one writer at a time).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

import orjson
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.auditlog.decisions import (
    POLICY_OVERRIDE,
    audit_log_url,
    branch_of,
    display_branch,
    protected_target,
)
from app.auditlog.events import AuditEntry, parse_entry
from app.jobs.queue import enqueue
from app.ledger.records import confirm_by_audit_log
from app.notify import notices
from app.notify.notices import NoticeKind
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
    """Confirm the hotfix a new override matches (True: its reply queued), or look later."""
    window = match_window(policy)
    hotfix = _matching_hotfix(session, entry, within=window)
    if hotfix is not None and _still_unconfirmed(session, hotfix):
        return _confirm(session, entry, row_id, hotfix, settings=settings, policy=policy, now=now)
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

    Called by the ``hotfix-recorded`` job of a hotfix just recorded. The closest unmatched
    override on the same repository and branch within ``override_match_minutes`` of a merge
    judged a bypass is linked, the hotfix confirmed and the "confirmed" reply queued; the
    event's pending ``audit-correlate`` check then finds it claimed. An override already
    announced as a violation is left alone (one event, one outcome).
    """
    if hotfix.id is None or hotfix.audit_document_id is not None or not hotfix.bypassed:
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
        if branch_of(entry) != _base_branch(hotfix) or _outcome_announced(session, entry):
            continue  # another branch's override, or one already announced as a violation
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
    bypass was outside the hotfix lane), ``settled`` (its outcome was announced already: the
    job run again) or ``missing`` (no such event).
    """
    row = session.exec(
        select(AuditEvent).where(col(AuditEvent.id) == event_id).with_for_update()
    ).first()
    if row is None:
        return "missing"
    if row.hotfix_id is not None:
        return "claimed"
    entry = entry_of(row)
    if _outcome_announced(session, entry):
        return "settled"
    hotfix = _matching_hotfix(session, entry, within=match_window(policy))
    if hotfix is not None and _still_unconfirmed(session, hotfix):
        _confirm(session, entry, event_id, hotfix, settings=settings, policy=policy, now=now)
        return "confirmed"
    notice = notices.policy_override_unmatched(
        repo=entry.repo or "unknown",
        branch=protected_target(entry),
        actor=entry.actor or "unknown",
        window_minutes=policy.audit.override_match_minutes,
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
    """Link event and hotfix, mark the hotfix confirmed, queue the "confirmed" reply."""
    assert hotfix.id is not None
    session.connection().execute(
        update(AuditEvent).where(col(AuditEvent.id) == row_id).values(hotfix_id=hotfix.id)
    )
    confirm_by_audit_log(session, hotfix=hotfix, document_id=entry.reference, at=now)
    session.flush()
    notice = notices.policy_override_confirmed(
        repo=hotfix.repo_full_name,
        branch=protected_target(entry),
        actor=entry.actor or hotfix.merged_by or "unknown",
        number=hotfix.number,
        incident_id=hotfix.incident_id,
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


def _matching_hotfix(
    session: Session, entry: AuditEntry, *, within: timedelta
) -> HotfixRecord | None:
    """The unconfirmed bypassed hotfix on the override's repository and branch merged closest
    to it, no further than ``within``."""
    branch = branch_of(entry)
    if entry.repo is None or branch is None:
        return None  # nothing to match on: the outcome is the violation, after the window
    query = select(HotfixRecord).where(
        func.lower(col(HotfixRecord.repo_full_name)) == entry.repo.lower(),
        col(HotfixRecord.bypassed).is_(True),
        col(HotfixRecord.audit_document_id).is_(None),
        col(HotfixRecord.merged_at) >= entry.created_at - within,
        col(HotfixRecord.merged_at) <= entry.created_at + within,
    )
    rows = [row for row in session.exec(query) if _base_branch(row) == branch]
    return min(rows, key=lambda row: abs(row.merged_at - entry.created_at), default=None)


def _base_branch(hotfix: HotfixRecord) -> str:
    # base_ref comes from the pull request's base.ref (``main``); read it as the audit log's.
    return display_branch(hotfix.base_ref)


def _outcome_announced(session: Session, entry: AuditEntry) -> bool:
    """Whether the override's one outcome, confirmed or violation, is in the outbox."""
    if get_notice(session, key=notices.audit_outcome_key(entry.reference)) is not None:
        return True
    # Stored before overrides were posted on arrival, an override's only notice, keyed
    # ``audit-log:<reference>``, was its outcome.
    earlier = get_notice(session, key=notices.audit_key(entry.reference))
    return earlier is not None and earlier.kind in _OUTCOMES


_OUTCOMES = frozenset({NoticeKind.POLICY_OVERRIDE_CONFIRMED, NoticeKind.POLICY_OVERRIDE_UNMATCHED})


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
