"""cleanup-links-hotfix: a cleanup PR names its incident and the hotfix PR it follows."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "cleanup-links-hotfix"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.cleanup_links_hotfix.enabled:
        return disabled(RULE_ID)
    # Step 7's example body: "Follows hotfix #4321 in INC-2026-05-20-001." The link lets the
    # ledger close the hotfix's cleanup obligation and lets reviewers see what is cleaned up.
    words = f"{snapshot.title}\n{snapshot.body}"
    ids = text.incident_ids(words, policy.incident.pattern)
    missing: list[str] = []
    if not ids:
        missing.append("the incident id")
    if not text.mentions_pull_request(words):
        missing.append("the hotfix PR ('#1234' or its URL)")
    if missing:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"The cleanup PR does not name {' or '.join(missing)}: add it to the title or body, "
            "e.g. 'Follows hotfix #1234 in <incident id>'.",
        )
    return Verdict(RULE_ID, Outcome.PASS, f"Names the hotfix it follows ({ids[0]}).")
