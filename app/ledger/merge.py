"""Record a merge: judge the bypass, write the ledger row, queue the audit notices.

Every other tool forgets a pull request at merge. Here the merge is when the audit trail is
written: whether branch protection was bypassed and by whom (runbook step 3), the ledger row
that the rate limit and the follow-ups count (steps 7-9), and the audit notices (step 5).

A newly recorded hotfix queues a ``hotfix-recorded`` job in the same transaction, a merged
cleanup PR a ``cleanup-recorded`` one: what other domains do about them (match an audit-log
override, open the follow-ups, tick the cleanup) runs from there, durably, without the
ledger knowing them.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

from sqlmodel import Session, col, select

from app.github.payloads import PullRequest, Repository, snapshot_from_payload
from app.jobs.queue import enqueue
from app.ledger import incidents
from app.ledger.history import quarter_name
from app.ledger.judge import judge_merge
from app.ledger.notices import Merge, merge_notices
from app.ledger.records import count_merged, quarter_bounds, record_hotfix
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.model import Policy
from app.retry import PermanentError
from app.rules import text
from app.rules.classify import classify
from app.rules.facts import incident_id_of, is_drill, named_approver, named_cleanup_owner
from app.rules.merge import MergeFindings
from app.rules.model import Lane, PullRequestSnapshot
from app.services import Services
from app.store.models import CleanupRecord, HotfixRecord
from app.store.upsert import insert_ignoring_conflict

log = logging.getLogger(__name__)

_BREAKGLASS = re.compile(r"break[\s-]?glass", re.IGNORECASE)

RECORDED_JOB = "hotfix-recorded"
CLEANUP_RECORDED_JOB = "cleanup-recorded"
# Something the tracking issue shows changed outside the follow-ups (a deployment, the
# verdict on recovery): the follow-ups rewrite the issue from this job.
TRACKING_SYNC_JOB = "tracking-issue-sync"


async def record_merge(
    services: Services,
    *,
    installation_id: int,
    repository: Repository,
    pr: PullRequest,
    policy: Policy,
) -> Lane:
    """Judge and record the merge of ``pr``; returns the lane it was merged in."""
    gateway = services.gateway
    if gateway is None:
        raise PermanentError("GitHub App not configured: replay this delivery once it is")
    snapshot = snapshot_from_payload(repository.full_name, pr)
    lane = classify(snapshot, policy)
    if lane is Lane.HOTFIX:
        # The files too: a PR that changes its own workflows cannot vouch for its scan.
        snapshot = await gateway.with_diff(installation_id, snapshot)
    now = services.clock.now()
    merged_at = pr.merged_at or now
    findings = await judge_merge(
        gateway,
        services.engine,
        installation_id=installation_id,
        snapshot=snapshot,
        policy=policy,
        lane=lane,
        merged_at=merged_at,
        merged_by=pr.merged_by.login if pr.merged_by else None,
    )
    merged_by = pr.merged_by.login if pr.merged_by else "unknown"
    member = True
    if findings.bypassed and lane is Lane.HOTFIX:
        member = await gateway.is_active_member(
            installation_id, repository.owner_login, policy.teams.bypass, merged_by
        )

    with Session(services.engine) as session:
        author_count = 0
        if lane is Lane.HOTFIX:
            row = _ledger_row(snapshot, policy, pr, repository, merged_by, findings, now=now)
            row.installation_id = installation_id
            hotfix, new = record_hotfix(session, record=row)
            start, end = quarter_bounds(merged_at)
            author_count = count_merged(
                session,
                org=repository.owner_login,
                since=start,
                until=end,
                author=snapshot.author_login,
            )
            if new and hotfix.id is not None:
                _announce(session, RECORDED_JOB, hotfix.id, now=now)
        elif lane is Lane.CLEANUP:
            cleanup, new = _record_cleanup(session, snapshot, policy, pr, merged_by, findings, now)
            if new and cleanup.id is not None:
                _announce(session, CLEANUP_RECORDED_JOB, cleanup.id, now=now)
        merge = Merge(
            repo=repository.full_name,
            number=pr.number,
            title=pr.title,
            url=pr.html_url or f"https://github.com/{repository.full_name}/pull/{pr.number}",
            lane=lane,
            merged_by=merged_by,
            merged_by_in_bypass_team=member,
            incident_id=incident_id_of(snapshot, policy),
            approver=named_approver(snapshot, policy),
            cleanup_owner=named_cleanup_owner(snapshot, policy),
            author=snapshot.author_login,
            author_this_quarter=author_count,
            quarter=quarter_name(merged_at),
        )
        drill = lane is Lane.HOTFIX and is_drill(snapshot, policy)
        channel = audit_channel(services.settings, policy)
        found = merge_notices(merge, findings, policy)
        if drill:
            found.append(
                notices.drill_merged(
                    repo=merge.repo,
                    number=merge.number,
                    title=merge.title,
                    merged_by=merged_by,
                    incident_id=merge.incident_id,
                    url=merge.url,
                )
            )
        report_only = policy.mode == "report"
        for notice in found:
            marked = notices.reported(notices.drilled(notice, drill), report_only)
            enqueue_notice(session, notice=marked, channel=channel, now=now)
        if lane is Lane.HOTFIX:
            _answer_declaration(session, merge, findings, policy, drill=drill, now=now)
        session.commit()
    log.info(
        "PR #%d merged by %s (%s lane): %s",
        pr.number,
        merged_by,
        lane.value,
        "bypass: " + "; ".join(findings.reasons) if findings.bypassed else "no bypass",
    )
    return lane


def _ledger_row(
    snapshot: PullRequestSnapshot,
    policy: Policy,
    pr: PullRequest,
    repository: Repository,
    merged_by: str,
    findings: MergeFindings,
    *,
    now: datetime,
) -> HotfixRecord:
    return HotfixRecord(
        org=repository.owner_login,
        repo_full_name=repository.full_name,
        number=pr.number,
        title=pr.title,
        incident_id=incident_id_of(snapshot, policy),
        author=snapshot.author_login,
        approver=named_approver(snapshot, policy),
        cleanup_owner=named_cleanup_owner(snapshot, policy),
        merged_by=merged_by,
        merged_at=pr.merged_at or now,
        head_sha=pr.head.sha,
        merge_sha=pr.merge_commit_sha,
        base_ref=pr.base.ref,
        url=pr.html_url,
        policy_state=findings.policy_state or "none",
        scan_state=findings.scan_state,
        bypassed=findings.bypassed,
        bypass_reasons=json.dumps(list(findings.reasons)),
        recorded_at=now,
        opened_at=pr.created_at,
        breakglass=used_breakglass(pr, policy),
        drill=is_drill(snapshot, policy),
    )


def _answer_declaration(
    session: Session,
    merge: Merge,
    findings: MergeFindings,
    policy: Policy,
    *,
    drill: bool,
    now: datetime,
) -> None:
    """The merge, answered in the incident's thread in the status channel (step 5)."""
    key = incidents.declaration_key(
        merge.repo.split("/", 1)[0], merge.incident_id, merge.repo, merge.number
    )
    notice = notices.incident_merged(
        subject=incidents.incident_subject(key),
        incident_id=merge.incident_id,
        repo=merge.repo,
        number=merge.number,
        merged_by=merge.merged_by,
        bypassed=findings.bypassed,
        url=merge.url,
    )
    enqueue_notice(
        session,
        notice=notices.drilled(notice, drill),
        channel=incidents.status_channel(policy),
        now=now,
    )


def used_breakglass(pr: PullRequest, policy: Policy) -> bool:
    """Whether the hotfix says it used the breakglass role: a ticked box naming it in the PR
    body, or a breakglass label. Either way its cleanup checklist becomes a follow-up."""
    labels = {label.lower() for label in policy.follow_ups.breakglass_labels}
    if any(label.name.lower() in labels for label in pr.labels):
        return True
    return any(_BREAKGLASS.search(item) for item in text.checked_items(pr.body or ""))


def _announce(session: Session, kind: str, row_id: int, *, now: datetime) -> None:
    """Queue what other domains do about a row just recorded, in its transaction."""
    enqueue(session, kind=kind, key=f"{kind}:{row_id}", ref=str(row_id), now=now.timestamp())


def refresh_tracking(session: Session, hotfix_id: int, *, reason: str, now: datetime) -> None:
    """Ask for the hotfix's tracking issue to be rewritten, once per ``reason``, in the
    caller's transaction."""
    enqueue(
        session,
        kind=TRACKING_SYNC_JOB,
        key=f"{TRACKING_SYNC_JOB}:{hotfix_id}:{reason}",
        ref=str(hotfix_id),
        now=now.timestamp(),
    )


def _record_cleanup(
    session: Session,
    snapshot: PullRequestSnapshot,
    policy: Policy,
    pr: PullRequest,
    merged_by: str,
    findings: MergeFindings,
    now: datetime,
) -> tuple[CleanupRecord, bool]:
    """Store a merged cleanup PR once (a redelivered merge is a no-op)."""
    words = f"{pr.title}\n{pr.body or ''}"
    values = CleanupRecord(
        repo_full_name=snapshot.repo_full_name,
        number=pr.number,
        title=pr.title,
        incident_id=incident_id_of(snapshot, policy),
        hotfix_numbers=json.dumps(text.pull_request_numbers(words, snapshot.repo_full_name)),
        merged_by=merged_by,
        merged_at=pr.merged_at or now,
        url=pr.html_url,
        policy_state=findings.policy_state or "none",
        bypassed=findings.bypassed,
        recorded_at=now,
    )
    inserted = insert_ignoring_conflict(
        session.connection(),
        CleanupRecord,
        values.model_dump(exclude={"id"}),
        unique=["repo_full_name", "number"],
        returning=col(CleanupRecord.id),
    )
    row = session.exec(
        select(CleanupRecord).where(
            col(CleanupRecord.repo_full_name) == snapshot.repo_full_name,
            col(CleanupRecord.number) == pr.number,
        )
    ).one()
    return row, bool(inserted)
