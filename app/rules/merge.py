"""Did a merge bypass branch protection? Decided from what was true of the head at merge.

GitHub's pull_request webhook does not say a merge was an admin bypass, so this reads the
facts: our own published state, the required checks on the merged head, and the approving
reviews. Pure: the ledger (``app.ledger.judge``) gathers the facts and acts on the findings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.policy.model import Scan
from app.rules import ci, scan
from app.rules.model import CheckResult, Review

PASSED = ci.CheckState.PASSED.value


@dataclass(frozen=True)
class MergeFacts:
    """What was on the merged head when it merged."""

    author: str
    policy_state: str | None  # our last hotfix-lane/policy state for the head; None: never set
    checks: tuple[CheckResult, ...]  # every check run and status but our own
    reviews: tuple[Review, ...]
    required_checks: frozenset[str]  # from branch protection and rulesets
    required_approvals: int
    scan: Scan  # the policy's scan section: which results may speak for the scan
    changed_paths: tuple[str, ...] = ()  # the PR's files: a PR may not vouch for its own scan


@dataclass(frozen=True)
class MergeFindings:
    policy_state: str | None
    bypassed: bool
    reasons: tuple[str, ...]
    scan_state: str  # passed, failed, running, missing
    scan_results: tuple[tuple[str, str | None], ...]  # (check name, conclusion) of each scan
    # Whether the named approver confirmed the merged head (or merged it); None: not asked.
    approver_confirmed: bool | None = None


def as_of(checks: Iterable[CheckResult], at: datetime) -> tuple[CheckResult, ...]:
    """The checks as they stood at ``at``: one that completed later had not finished then.

    A merge is judged by what was true when it happened; a scan that passes a minute after an
    admin merge did not stand between the change and production.
    """
    return tuple(
        dataclasses.replace(check, status="in_progress", conclusion=None)
        if check.completed_at is not None and check.completed_at > at
        else check
        for check in checks
    )


def assess_merge(facts: MergeFacts) -> MergeFindings:
    """Name every requirement the merge went past; any one makes it a bypass."""
    reasons: list[str] = []
    if facts.policy_state != "success":
        reasons.append(f"hotfix-lane/policy was {facts.policy_state or 'never reported'}")
    by_name = {check.name.lower(): check for check in facts.checks}
    for name in sorted(facts.required_checks):
        check = by_name.get(name.lower())
        if check is None:
            reasons.append(f"required check {name} had not reported")
        elif not check.succeeded:
            reasons.append(f"required check {name} was {check.conclusion or check.status}")
    approvals = _approvers(facts.reviews, facts.author)
    if len(approvals) < facts.required_approvals:
        reasons.append(f"{len(approvals)} approving review(s), {facts.required_approvals} required")
    scans = scan.scans(facts.checks, facts.scan, facts.changed_paths).trusted
    return MergeFindings(
        policy_state=facts.policy_state,
        bypassed=bool(reasons),
        reasons=tuple(reasons),
        # The scan rule's own reading: a skipped scan is a bypassed scan.
        scan_state=ci.state_of(scans, passed=scan.passed_cleanly).value,
        scan_results=tuple((c.name, c.conclusion) for c in scans),
    )


def _approvers(reviews: Iterable[Review], author: str) -> set[str]:
    """Reviewers whose latest decisive review approves (a later change request cancels it)."""
    latest: dict[str, str] = {}
    for review in reviews:
        if review.state in {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}:
            latest[review.user_login.lower()] = review.state
    return {
        user for user, state in latest.items() if state == "APPROVED" and user != author.lower()
    }
