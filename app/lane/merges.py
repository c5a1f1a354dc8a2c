"""pull_request closed: stop tracking; if merged, judge the merge and record the hotfix.

Every other tool forgets a pull request at merge. Here the merge is when the audit trail is
written: whether branch protection was bypassed and by whom (runbook step 3), the ledger
row that the rate limit and the follow-ups count (steps 7-9), and the audit notices (step 5).
"""

from __future__ import annotations

import json
import logging

from sqlmodel import Session

from app.services import EventContext
from app.lane.evaluation import evaluate_pull_request, policy_or_defaults, require_gateway
from app.lane.pull_requests import read
from app.github.gateway import GitHubGateway
from app.github.names import CHECK_RUN_NAME, STATUS_CONTEXT
from app.github.payloads import PullRequest, PullRequestEvent, Repository, snapshot_from_payload
from app.auditlog import ingest as audit
from app.rules.merge import MergeFacts, MergeFindings, assess_merge
from app.ledger.history import quarter_name
from app.ledger.records import count_merged, quarter_bounds, record_hotfix
from app.ledger.verdict import Merge, merge_notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.model import Policy
from app.store.publications import STATUS, get_publication
from app.rules.classify import classify
from app.rules.evaluate import incident_id_of, named_approver, named_cleanup_owner
from app.rules.model import Lane, PullRequestSnapshot
from app.store.models import HotfixRecord
from app.lane.tracking import get_tracked, open_hotfix_prs, track
from app.store.types import utcnow

log = logging.getLogger(__name__)


async def on_pull_request_closed(context: EventContext) -> None:
    event = read(context, PullRequestEvent)
    if event is None or event.repository is None or event.installation_id is None:
        return
    pr, repository = event.pull_request, event.repository
    with Session(context.services.engine) as session:
        row = get_tracked(session, repo_full_name=repository.full_name, number=pr.number)
        track(
            session,
            repo_full_name=repository.full_name,
            number=pr.number,
            installation_id=event.installation_id,
            head_sha=pr.head.sha,
            lane=row.lane if row else "ordinary",
            state="closed",
            default_branch=repository.default_branch,
            pull_request_json=pr.model_dump_json(),
            pr_updated_at=pr.updated_at,
            # Closed is final, whatever copy we held (a reopening comes with a newer one).
            authoritative=True,
        )
    if not pr.merged:
        log.info("PR #%d closed without merging", pr.number)
        return
    await record_merge(context, event.installation_id, repository, pr)


async def record_merge(
    context: EventContext, installation_id: int, repository: Repository, pr: PullRequest
) -> None:
    gateway = require_gateway(context)
    # A broken policy file must not hide a merge from the audit trail.
    policy = await policy_or_defaults(gateway, installation_id, repository)
    snapshot = snapshot_from_payload(repository.full_name, pr)
    lane = classify(snapshot, policy)
    findings = await _assess(context, gateway, installation_id, snapshot, policy, lane)
    merged_by = pr.merged_by.login if pr.merged_by else "unknown"
    member = True
    if findings.bypassed and lane is Lane.HOTFIX:
        member = await gateway.is_active_member(
            installation_id, repository.owner_login, policy.teams.bypass, merged_by
        )
    if lane is Lane.HOTFIX:
        snapshot = await gateway.with_diff(installation_id, snapshot)

    now = context.services.clock()
    merged_at = pr.merged_at or now
    with Session(context.services.engine) as session:
        author_count = 0
        if lane is Lane.HOTFIX:
            hotfix, new = record_hotfix(
                session, record=_ledger_row(snapshot, policy, pr, repository, merged_by, findings)
            )
            start, end = quarter_bounds(merged_at)
            author_count = count_merged(
                session,
                org=repository.owner_login,
                since=start,
                until=end,
                author=snapshot.author_login,
            )
            if new:
                audit.claim_override_for(
                    session,
                    hotfix=hotfix,
                    settings=context.services.settings,
                    policy=policy,
                    now=now,
                )
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
        channel = audit_channel(context.services.settings, policy)
        for notice in merge_notices(merge, findings, policy):
            enqueue_notice(session, notice=notice, channel=channel)
        session.commit()
    if lane is Lane.HOTFIX:
        await _recount_open_hotfixes(context, repository, pr.number, policy)
    log.info(
        "PR #%d merged by %s (%s lane): %s",
        pr.number,
        merged_by,
        lane.value,
        "bypass: " + "; ".join(findings.reasons) if findings.bypassed else "no bypass",
    )


async def _recount_open_hotfixes(
    context: EventContext, repository: Repository, merged: int, policy: Policy
) -> None:
    """This merge may push the other open hotfixes past the rate limit: evaluate them now,
    or several PRs opened side by side would all stay green past the limit."""
    scope_repo = repository.full_name if policy.rate_limit.scope == "repository" else None
    with Session(context.services.engine) as session:
        rows = open_hotfix_prs(session, org=repository.owner_login, repo_full_name=scope_repo)
    for row in rows:
        if row.installation_id is None or (
            row.repo_full_name == repository.full_name and row.number == merged
        ):
            continue
        await evaluate_pull_request(
            context,
            installation_id=row.installation_id,
            repository=Repository(full_name=row.repo_full_name, default_branch=row.default_branch),
            pr=PullRequest.model_validate_json(row.pull_request),
        )


async def _assess(
    context: EventContext,
    gateway: GitHubGateway,
    installation_id: int,
    snapshot: PullRequestSnapshot,
    policy: Policy,
    lane: Lane,
) -> MergeFindings:
    """Gather what was true of the merged head and judge whether the merge was a bypass."""
    repo = snapshot.repo_full_name
    checks = await gateway.checks(installation_id, repo, snapshot.head_sha)
    reviews = await gateway.reviews(installation_id, repo, snapshot.number)
    branch = await gateway.branch_requirements(installation_id, repo, snapshot.base_ref)
    with Session(context.services.engine) as session:
        published = get_publication(
            session=session, repo_full_name=repo, head_sha=snapshot.head_sha, kind=STATUS
        )
    policy_state = published.state if published is not None else None
    if policy_state is None and lane is Lane.ORDINARY:
        # Never evaluated (e.g. opened before the App was installed): nothing to go past.
        policy_state = "success"
    approvals = branch.ruleset_approvals
    if branch.classic_protection:
        # Classic protection hides its review rule from non-admins: the policy says what
        # to assume (the runbook's main branch requires one approval).
        approvals = max(approvals, policy.audit.classic_protection_approvals)
    return assess_merge(
        MergeFacts(
            author=snapshot.author_login,
            policy_state=policy_state,
            checks=checks,
            reviews=reviews,
            # Our own status and check run are judged by what we published (policy_state).
            required_checks=branch.required_checks - {STATUS_CONTEXT, CHECK_RUN_NAME},
            required_approvals=approvals,
            scan_names=tuple(policy.rules.scan.checks),
            scan_apps=tuple(policy.rules.scan.apps),
        )
    )


def _ledger_row(
    snapshot: PullRequestSnapshot,
    policy: Policy,
    pr: PullRequest,
    repository: Repository,
    merged_by: str,
    findings: MergeFindings,
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
        merged_at=pr.merged_at or utcnow(),
        head_sha=pr.head.sha,
        merge_sha=pr.merge_commit_sha,
        base_ref=pr.base.ref,
        url=pr.html_url,
        policy_state=findings.policy_state or "none",
        scan_state=findings.scan_state,
        bypassed=findings.bypassed,
        bypass_reasons=json.dumps(list(findings.reasons)),
        recorded_at=utcnow(),
    )
