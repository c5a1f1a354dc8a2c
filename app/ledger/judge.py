"""Gather what was true of a merged head and judge whether the merge bypassed protection.

The judgement itself is pure (``app.rules.merge``); this module reads its facts: the checks
and reviews on the merged head, what branch protection and rulesets required, and the
``hotfix-lane/policy`` state we had published for that head.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.github.gateway import GitHubGateway
from app.github.names import CHECK_RUN_NAME, STATUS_CONTEXT
from app.policy.model import Policy
from app.rules.merge import MergeFacts, MergeFindings, assess_merge
from app.rules.model import Lane, PullRequestSnapshot
from app.store.publications import STATUS, get_publication


async def judge_merge(
    gateway: GitHubGateway,
    engine: Engine,
    *,
    installation_id: int,
    snapshot: PullRequestSnapshot,
    policy: Policy,
    lane: Lane,
) -> MergeFindings:
    """Whether the merge of ``snapshot`` was a bypass, and why."""
    repo = snapshot.repo_full_name
    checks = await gateway.checks(installation_id, repo, snapshot.head_sha)
    reviews = await gateway.reviews(installation_id, repo, snapshot.number)
    branch = await gateway.branch_requirements(installation_id, repo, snapshot.base_ref)
    with Session(engine) as session:
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
