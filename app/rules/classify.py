"""Which lane of the runbook a pull request is in: hotfix, cleanup or ordinary."""

from __future__ import annotations

from app.policy.model import Policy
from app.rules import facts
from app.rules.model import Lane, PullRequestSnapshot


def classify(snapshot: PullRequestSnapshot, policy: Policy) -> Lane:
    """Any one hotfix marker puts a PR in the hotfix lane; a cleanup branch makes it cleanup.

    The cleanup branch is looked at first: a cleanup PR that also wears the hotfix label is
    asking for the fast-path, and the cleanup rules say exactly that, where the hotfix rules
    would only complain about a badly named branch.
    """
    if snapshot.head_ref.startswith(policy.cleanup.branch_prefix):
        return Lane.CLEANUP
    if (
        facts.has_hotfix_label(snapshot, policy)
        or snapshot.head_ref.startswith(policy.lane.branch_prefix)
        or facts.has_hotfix_title(snapshot, policy)
    ):
        return Lane.HOTFIX
    return Lane.ORDINARY
