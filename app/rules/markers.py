"""markers: a hotfix PR has the hotfix label, branch prefix and title prefix, for one incident."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts, text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "markers"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    return check_markers(snapshot, policy, require_label=True, check_title=True)


def check_markers(
    snapshot: PullRequestSnapshot, policy: Policy, *, require_label: bool, check_title: bool
) -> Verdict:
    """The markers rule, with the label and the title requirements switchable.

    ``hotfix-lane check`` runs before a PR exists, so it has no label and no real title: it
    waives the label, and checks the title only when it decides the tip commit's subject stands
    in for one.
    """
    if not policy.rules.markers.enabled:
        return disabled(RULE_ID)
    lane, pattern = policy.lane, policy.incident.pattern
    fixes: list[str] = []
    # Step 4: the label is what starts the fast-path workflow.
    if require_label and not facts.has_hotfix_label(snapshot, policy):
        fixes.append(f"add the label '{lane.label}'")
    # Step 2: git checkout -b hotfix/INC-...
    if not snapshot.head_ref.startswith(lane.branch_prefix):
        fixes.append(f"push to a branch named '{lane.branch_prefix}<incident id>-<topic>'")
    if check_title and not facts.has_hotfix_title(snapshot, policy):
        fixes.append(f"start the title with '{lane.title_prefix}'")
    branch_ids = text.incident_ids(snapshot.head_ref, pattern)
    if not branch_ids:
        fixes.append("put the incident id in the branch name")
    title_ids = text.incident_ids(snapshot.title, pattern)
    if check_title and not title_ids:
        fixes.append("put the incident id in the title")
    elif check_title and branch_ids and title_ids != branch_ids:
        fixes.append(
            f"name the same incident in the branch ({', '.join(branch_ids)}) "
            f"and the title ({', '.join(title_ids)})"
        )
    if fixes:
        return Verdict(RULE_ID, Outcome.FAIL, f"Hotfix markers incomplete: {'; '.join(fixes)}.")
    return Verdict(RULE_ID, Outcome.PASS, f"Hotfix markers present for {branch_ids[0]}.")
