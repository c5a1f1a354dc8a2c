"""cleanup-full-pipeline: a cleanup PR does not ask for the hotfix fast-path."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "cleanup-full-pipeline"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.cleanup_full_pipeline.enabled:
        return disabled(RULE_ID)
    # Step 7: "This PR runs the FULL pipeline (no fast-path)"; the label starts the fast-path.
    markers: list[str] = []
    if facts.has_hotfix_label(snapshot, policy):
        markers.append(f"the '{policy.lane.label}' label")
    if facts.has_hotfix_title(snapshot, policy):
        markers.append(f"the '{policy.lane.title_prefix}' title prefix")
    if markers:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"A cleanup PR runs the full pipeline: remove {' and '.join(markers)} so the "
            "fast-path does not run, and merge through normal review.",
        )
    return Verdict(RULE_ID, Outcome.PASS, "Runs the full pipeline (no hotfix markers).")
