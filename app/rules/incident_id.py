"""incident-id: every commit names the PR's incident, and only one incident is named."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts, text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "incident-id"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.incident_id.enabled:
        return disabled(RULE_ID)
    pattern = policy.incident.pattern
    ids = facts.incident_ids(snapshot, policy)
    if not ids:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"No incident id found: name the incident (pattern '{pattern}') in the branch, "
            "the title and every commit message.",
        )
    # "ONE concern per hotfix": two incidents in one PR is two hotfixes bundled together.
    if len(ids) > 1:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"{len(ids)} incidents named ({', '.join(ids)}): one concern per hotfix; keep one "
            "incident here and ship the other change in its own PR.",
        )
    # Step 2: "The commit message MUST include the incident ID ... the audit trail starts here."
    unnamed = [
        c.sha[:7]
        for c in facts.authored_commits(snapshot)
        if not text.incident_ids(c.message, pattern)
    ]
    if unnamed:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"{text.plural(len(unnamed), 'commit')} without {ids[0]} "
            f"({', '.join(unnamed[:5])}): add the incident id to each commit message.",
        )
    return Verdict(RULE_ID, Outcome.PASS, f"Every commit names {ids[0]}.")
