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
    # Step 1: "an SRE Lead OR Eng Manager"; approving your own emergency change is no approval,
    # and neither is approving a change you co-wrote or committed under an unlinked e-mail.
    wrote = facts.authorship(snapshot, approver)
    if wrote is not None:
        problems.append(_how_written(approver, wrote))
    if not any(snapshot.is_member(team, approver) for team in teams):
        problems.append(_not_a_member(snapshot, approver, teams))
    if problems:
        if wrote is not None and wrote.how != "wrote" and len(problems) == 1:
            return Verdict(
                RULE_ID,
                Outcome.FAIL,
                f"{problems[0]}: the approver must not have written the change.",
            )
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"{'; '.join(problems)}: name an approver from {text.one_of(teams)} "
            "who did not write the change.",
        )
    return Verdict(RULE_ID, Outcome.PASS, f"@{approver} may approve hotfixes.")


# A trailer or an e-mail is the PR author's text: quoted, but only so much of it.
_QUOTED = 80


def _how_written(approver: str, wrote: facts.Authorship) -> str:
    detail = wrote.detail if len(wrote.detail) <= _QUOTED else wrote.detail[:_QUOTED] + "…"
    sha = wrote.commit.sha[:7] if wrote.commit else ""
    if wrote.how == "co-authored":
        return f"@{approver} co-authored a commit (Co-authored-by: {detail})"
    if wrote.how in {"authored", "committed"}:
        return (
            f"@{approver} {wrote.how} commit {sha} as {detail}, an e-mail GitHub links to "
            "no account"
        )
    return f"@{approver} wrote this change and cannot approve it"


def _not_a_member(snapshot: PullRequestSnapshot, approver: str, teams: tuple[str, ...]) -> str:
    unchecked = [team for team in teams if facts.unchecked(snapshot, team, approver)]
    if not unchecked:
        return f"@{approver} is not an active member of {text.one_of(teams)}"
    # Fail closed: a membership GitHub was not asked about is no membership.
    return (
        f"@{approver} is not confirmed as a member: membership lookups were capped at "
        f"{facts.membership_cap(snapshot)} for this evaluation, before {', '.join(unchecked)}"
    )
