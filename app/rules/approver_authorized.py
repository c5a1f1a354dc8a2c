"""approver-authorized: the approver is an active approver-team member who did not write the fix."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts, text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "approver-authorized"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.approver_authorized.enabled:
        return disabled(RULE_ID)
    approver = facts.named_approver(snapshot, policy)
    if approver is None:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"No approver to check: name one with '{policy.trailers.commit.approver}: @login' "
            "in the hotfix commit message.",
        )
    teams = policy.teams.approvers
    problems: list[str] = []
    # Step 1: "an SRE Lead OR Eng Manager"; approving your own emergency change is no approval.
    writers = {snapshot.author_login.lower()} | {
        login.lower()
        for c in facts.authored_commits(snapshot)
        for login in (c.author_login, c.committer_login)
        if login
    }
    if approver in writers:
        problems.append(f"@{approver} wrote this change and cannot approve it")
    if not any(snapshot.is_member(team, approver) for team in teams):
        problems.append(_not_a_member(snapshot, approver, teams))
    if problems:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"{'; '.join(problems)}: name an approver from {text.one_of(teams)} "
            "who did not write the change.",
        )
    return Verdict(RULE_ID, Outcome.PASS, f"@{approver} may approve hotfixes.")


def _not_a_member(snapshot: PullRequestSnapshot, approver: str, teams: tuple[str, ...]) -> str:
    unchecked = [team for team in teams if facts.unchecked(snapshot, team, approver)]
    if not unchecked:
        return f"@{approver} is not an active member of {text.one_of(teams)}"
    # Fail closed: a membership GitHub was not asked about is no membership.
    return (
        f"@{approver} is not confirmed as a member: membership lookups were capped at "
        f"{facts.membership_cap(snapshot)} for this evaluation, before {', '.join(unchecked)}"
    )
