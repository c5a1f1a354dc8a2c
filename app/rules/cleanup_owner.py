"""cleanup-owner: one person is named to open the return-to-normal-flow PR."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts, text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "cleanup-owner"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.cleanup_owner.enabled:
        return disabled(RULE_ID)
    # Fractions are allowed (a drill's 0.01); a whole number reads "24", not "24.0".
    hours = f"{policy.follow_ups.cleanup_hours:g}"
    owners = facts.cleanup_owners(snapshot, policy).everyone
    # Step 1: the cleanup-owner is named up front; step 7: they open the cleanup PR.
    if not owners:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"No cleanup owner named: add '{policy.trailers.commit.cleanup_owner}: @login' to "
            f"the hotfix commit message or '{policy.trailers.body.cleanup_owner}: @login' to "
            f"the PR body; they open the cleanup PR within {hours} hours.",
        )
    if len(owners) > 1:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"Several cleanup owners named ({text.handles(owners)}): name one person, who "
            f"opens the cleanup PR within {hours} hours.",
        )
    return Verdict(
        RULE_ID,
        Outcome.PASS,
        f"@{owners[0]} owns the cleanup PR, due within {hours} hours of the merge.",
    )
