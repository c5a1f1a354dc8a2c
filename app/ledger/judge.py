"""Gather what was true of a merged head and judge whether the merge bypassed protection.

The judgement itself is pure (``app.rules.merge``); this module reads its facts: the checks
and reviews on the merged head, what branch protection and rulesets required, and the
``hotfix-lane/policy`` state we had published for that head.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.github.gateway import GitHubGateway
from app.github.names import CHECK_RUN_NAME, STATUS_CONTEXT
from app.policy.model import Policy
from app.rules.approver_confirmed import confirmation
from app.rules.facts import named_approver
from app.rules.merge import MergeFacts, MergeFindings, as_of, assess_merge
from app.rules.model import Lane, PullRequestSnapshot
from app.store.models import ApproverConfirmation, EvaluationRecord
from app.store.publications import STATUS, get_publication


async def judge_merge(
    gateway: GitHubGateway,
    engine: Engine,
    *,
    installation_id: int,
    snapshot: PullRequestSnapshot,
    policy: Policy,
    lane: Lane,
    merged_at: datetime,
    merged_by: str | None = None,
) -> MergeFindings:
    """Whether the merge of ``snapshot`` was a bypass, and why, as of ``merged_at``.

    Checks that completed, reviews submitted and evaluations we made after the merge do not
    count: a ``check_run.completed`` handled before the ``pull_request.closed`` of an admin
    merge must not make it look compliant.
    """
    repo = snapshot.repo_full_name
    checks = as_of(await gateway.checks(installation_id, repo, snapshot.head_sha), merged_at)
    reviews = tuple(
        review
        for review in await gateway.reviews(installation_id, repo, snapshot.number)
        if review.submitted_at is None or review.submitted_at <= merged_at
    )
    branch = await gateway.branch_requirements(installation_id, repo, snapshot.base_ref)
    with Session(engine) as session:
        policy_state = _state_at(session, snapshot, merged_at)
    if policy_state is None and lane is Lane.ORDINARY:
        # Never evaluated (e.g. opened before the App was installed): nothing to go past.
        policy_state = "success"
    approvals = branch.ruleset_approvals
    if branch.classic_protection:
        # Classic protection hides its review rule from non-admins: the policy says what
        # to assume (the runbook's main branch requires one approval).
        approvals = max(approvals, policy.audit.classic_protection_approvals)
    findings = assess_merge(
        MergeFacts(
            author=snapshot.author_login,
            policy_state=policy_state,
            checks=checks,
            reviews=reviews,
            # Our own status and check run are judged by what we published (policy_state).
            required_checks=branch.required_checks - {STATUS_CONTEXT, CHECK_RUN_NAME},
            required_approvals=approvals,
            scan=policy.rules.scan,
            changed_paths=tuple(f.path for f in snapshot.files),
        )
    )
    approver = named_approver(snapshot, policy)
    if lane is not Lane.HOTFIX or approver is None or not policy.rules.approver_confirmed.enabled:
        return findings
    with Session(engine) as session:
        confirmed = _confirmed_by_command(session, snapshot, approver, merged_at)
    at_merge = dataclasses.replace(
        snapshot, reviews=reviews, approver_confirmations=(approver,) if confirmed else ()
    )
    by_merger = merged_by is not None and merged_by.lower() == approver.lower()
    return dataclasses.replace(
        findings,
        approver_confirmed=by_merger or confirmation(at_merge, approver) is not None,
    )


def _confirmed_by_command(
    session: Session, snapshot: PullRequestSnapshot, approver: str, at: datetime
) -> bool:
    """Whether the approver commented ``/hotfix approve`` at the merged head before ``at``."""
    row = session.exec(
        select(ApproverConfirmation).where(
            func.lower(col(ApproverConfirmation.repo_full_name)) == snapshot.repo_full_name.lower(),
            col(ApproverConfirmation.number) == snapshot.number,
            col(ApproverConfirmation.head_sha) == snapshot.head_sha,
            func.lower(col(ApproverConfirmation.login)) == approver.lower(),
            col(ApproverConfirmation.created_at) <= at,
        )
    ).first()
    return row is not None


def _state_at(session: Session, snapshot: PullRequestSnapshot, at: datetime) -> str | None:
    """Our ``hotfix-lane/policy`` state for the merged head as it stood at ``at``.

    The latest evaluation of that head made before the merge; failing that, the status we
    last published, if it was published before the merge (rows from before evaluations were
    kept).
    """
    row = session.exec(
        select(EvaluationRecord)
        .where(
            func.lower(col(EvaluationRecord.repo_full_name)) == snapshot.repo_full_name.lower(),
            col(EvaluationRecord.number) == snapshot.number,
            col(EvaluationRecord.head_sha) == snapshot.head_sha,
            col(EvaluationRecord.evaluated_at) <= at,
        )
        .order_by(col(EvaluationRecord.evaluated_at).desc(), col(EvaluationRecord.id).desc())
    ).first()
    if row is not None:
        return row.state
    published = get_publication(
        session=session,
        repo_full_name=snapshot.repo_full_name,
        head_sha=snapshot.head_sha,
        kind=STATUS,
    )
    if published is not None and published.updated_at <= at:
        return published.state
    return None
