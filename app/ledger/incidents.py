"""Declared incidents: the status channel's "DECLARING HOTFIX" message, once per incident.

The declaration is what the runbook's "When this runbook last worked" table measures from
(declaration to merge), so it is kept beside the hotfixes it announced.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from app.notify import notices
from app.notify.outbox import enqueue_notice
from app.policy.model import Policy
from app.rules.facts import (
    incident_id_of,
    is_drill,
    named_approver,
    named_cleanup_owner,
    symptom,
)
from app.rules.model import PullRequestSnapshot
from app.store.models import Declaration, HotfixRecord
from app.store.upsert import insert_ignoring_conflict

log = logging.getLogger(__name__)


def declaration_key(org: str, incident_id: str | None, repo: str, number: int) -> str:
    """What makes a declaration one per incident: ``acme:INC-2026-05-20-001``, or the pull
    request (``acme/api#12``) when it names no incident. Organisations differ in case only on
    GitHub's side, so the organisation is lower-cased."""
    if incident_id:
        return f"{org.lower()}:{incident_id}"
    return f"{repo.lower()}#{number}"


def incident_subject(key: str) -> str:
    """The notice subject of an incident's thread in the status channel."""
    return f"incident:{key}"


def status_channel(policy: Policy) -> str:
    """Where hotfixes are declared: the policy's ``status.channel``."""
    return policy.status.channel


def declare(
    session: Session, *, snapshot: PullRequestSnapshot, policy: Policy, url: str, now: datetime
) -> bool:
    """Declare the incident of a hotfix PR in the status channel, once per incident; False
    when it was declared before. Runs in the caller's transaction (commit it).

    The declaration names the approver and the cleanup owner as the PR names them when it
    first enters the lane; a missing one is said to be missing, which is the point.
    """
    incident_id = incident_id_of(snapshot, policy)
    repo, number = snapshot.repo_full_name, snapshot.number
    key = declaration_key(snapshot.owner, incident_id, repo, number)
    drill = is_drill(snapshot, policy)
    # Every evaluation of an open hotfix passes here: a read first, so only the first one
    # writes (on SQLite a write takes the database's one write lock).
    if session.connection().execute(_DECLARED, {"key": key}).first():
        return False
    inserted = insert_ignoring_conflict(
        session.connection(),
        Declaration,
        {
            "key": key,
            "org": snapshot.owner,
            "incident_id": incident_id,
            "repo_full_name": repo,
            "number": number,
            "drill": drill,
            "declared_at": now,
        },
        unique=["key"],
        returning=col(Declaration.id),
    )
    if not inserted:
        return False
    notice = notices.hotfix_declared(
        subject=incident_subject(key),
        incident_id=incident_id,
        symptom=symptom(snapshot.title, policy),
        approver=named_approver(snapshot, policy),
        cleanup_owner=named_cleanup_owner(snapshot, policy),
        repo=repo,
        number=number,
        url=url,
    )
    enqueue_notice(
        session, notice=notices.drilled(notice, drill), channel=status_channel(policy), now=now
    )
    log.info("incident %s declared by %s#%d", incident_id or key, repo, number)
    return True


# The read above, built once (values bound at each call).
_DECLARATIONS = Declaration.__table__  # type: ignore[attr-defined]
_DECLARED = select(_DECLARATIONS.c.id).where(_DECLARATIONS.c.key == bindparam("key"))


def hotfix_subject(record: HotfixRecord) -> str:
    """The incident thread a merged hotfix answers in."""
    key = declaration_key(record.org, record.incident_id, record.repo_full_name, record.number)
    return incident_subject(key)
