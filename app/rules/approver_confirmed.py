"""approver-confirmed: the named approver agreed to this hotfix, at its current head.

Runbook step 1 names the approver up front: "Without an approver, the bypass buttons ...
should NOT be used". A name in a commit message is something anyone can write; the approver's
own act is not: an approving review on the head commit, or their ``/hotfix approve`` comment
after the latest push. A push moves the head, and the confirmation must be given again.
"""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "approver-confirmed"
APPROVE_COMMAND = "/hotfix approve"


def confirmation(snapshot: PullRequestSnapshot, approver: str) -> str | None:
    """How ``approver`` confirmed the head (a review or the command), or None."""
    login = approver.lower()
    for review in snapshot.reviews:
        on_head = review.commit_id is None or review.commit_id == snapshot.head_sha
        if review.user_login.lower() == login and review.state == "APPROVED" and on_head:
            return "an approving review on the head commit"
    if login in {name.lower() for name in snapshot.approver_confirmations}:
        return f"`{APPROVE_COMMAND}` after the latest push"
    return None


def needs_reviews(snapshot: PullRequestSnapshot, policy: Policy) -> bool:
    """Whether the reviews must be read: not when the approver confirmed with the command
    (one read saved on every evaluation of a confirmed hotfix)."""
    if not policy.rules.approver_confirmed.enabled:
        return False
    approver = facts.named_approver(snapshot, policy)
    confirmed = {name.lower() for name in snapshot.approver_confirmations}
    return approver is not None and approver.lower() not in confirmed


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.approver_confirmed.enabled:
        return disabled(RULE_ID)
    approver = facts.named_approver(snapshot, policy)
    if approver is None:
        return Verdict(
            RULE_ID,
            Outcome.PENDING,
            "No approver named yet: once one is, they confirm with an approving review on the "
            f"head commit or `{APPROVE_COMMAND}`.",
        )
    how = confirmation(snapshot, approver)
    if how is None:
        return Verdict(
            RULE_ID,
            Outcome.PENDING,
            f"Waiting for @{approver} to confirm: an approving review on the head commit, or "
            f"`{APPROVE_COMMAND}` in a comment.",
        )
    return Verdict(RULE_ID, Outcome.PASS, f"@{approver} confirmed with {how}.")
