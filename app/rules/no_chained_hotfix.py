"""no-chained-hotfix: an incident gets one hotfix; a wrong one is reverted, not patched over.

Step 6: "If the symptom does NOT recover, the hotfix was wrong. Roll back the hotfix (it's just
a commit; revert + sync). Do not chain another hotfix; treat the situation as a new incident."
The incident's merged hotfixes come from the ledger (``snapshot.history``); GitHub's revert PR
(titled ``Revert "<title>"``) of one of them is the rollback the runbook asks for, so it passes.
"""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts
from app.rules.model import MergedHotfix, Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "no-chained-hotfix"


def reference(hotfix: MergedHotfix, snapshot: PullRequestSnapshot) -> str:
    """``#4321`` in the PR's own repository, ``acme/api#4321`` in another."""
    same_repo = hotfix.repo_full_name.lower() == snapshot.repo_full_name.lower()
    return f"#{hotfix.number}" if same_repo else f"{hotfix.repo_full_name}#{hotfix.number}"


def reverts(snapshot: PullRequestSnapshot, hotfix: MergedHotfix) -> bool:
    """Whether the PR is GitHub's revert of ``hotfix`` (the title its Revert button writes)."""
    return snapshot.title.strip() == f'Revert "{hotfix.title.strip()}"'


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.no_chained_hotfix.enabled:
        return disabled(RULE_ID)
    incident = facts.incident_id_of(snapshot, policy)
    if incident is None:
        # incident-id fails this PR already; one missing id is reported once.
        return Verdict(RULE_ID, Outcome.PASS, "No incident id, so no earlier hotfix to look for.")
    if snapshot.history is None:
        # Fail closed, like rate-limit: without the ledger an earlier hotfix cannot be ruled out.
        return Verdict(RULE_ID, Outcome.PENDING, "The ledger's hotfixes are not available.")
    this_pr = (snapshot.repo_full_name.lower(), snapshot.number)
    earlier = [
        h
        for h in snapshot.history.incident_hotfixes
        if (h.repo_full_name.lower(), h.number) != this_pr
    ]
    if not earlier:
        return Verdict(RULE_ID, Outcome.PASS, f"No merged hotfix of {incident} yet.")
    reverted = next((h for h in earlier if reverts(snapshot, h)), None)
    if reverted is not None:
        return Verdict(
            RULE_ID,
            Outcome.PASS,
            f"Reverts {reference(reverted, snapshot)}, a merged hotfix of {incident}: a rollback, "
            "not a chained hotfix.",
        )
    refs = ", ".join(reference(h, snapshot) for h in earlier)
    merged = "a merged hotfix" if len(earlier) == 1 else f"{len(earlier)} merged hotfixes"
    it = "it" if len(earlier) == 1 else "them"
    return Verdict(
        RULE_ID,
        Outcome.FAIL,
        f"{incident} already has {merged} ({refs}): revert {it}, or declare a new incident "
        "for a new fix.",
    )
