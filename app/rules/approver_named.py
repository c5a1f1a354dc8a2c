"""approver-named: a commit names the approver, and the PR body does not name someone else."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts, text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "approver-named"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.approver_named.enabled:
        return disabled(RULE_ID)
    commit_key, body_key = policy.trailers.commit.approver, policy.trailers.body.approver
    named = facts.approvers(snapshot, policy)
    # Step 2: the commit message MUST carry the approver handle; step 1: the approver is named
    # up front, without one the bypass buttons are not used.
    if not named.in_commits:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"No commit names an approver: add a line '{commit_key}: @login' to the hotfix "
            "commit message.",
        )
    if len(named.in_commits) > 1:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"Commits name different approvers ({text.handles(named.in_commits)}): a hotfix has "
            "one approver; amend the commits to name the same person.",
        )
    approver = named.in_commits[0]
    others = [login for login in named.in_body if login != approver]
    if others:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"The PR body names {text.handles(others)} as approver but the commit names "
            f"@{approver}: make the '{body_key}:' line name the same person.",
        )
    return Verdict(RULE_ID, Outcome.PASS, f"@{approver} is named as the approver.")
