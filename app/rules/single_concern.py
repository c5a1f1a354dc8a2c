"""single-concern: a hotfix stays within few top-level directories (one concern per hotfix)."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.paths import top_level
from app.rules.verdicts import disabled

RULE_ID = "single-concern"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    rule = policy.rules.single_concern
    if not rule.enabled:
        return disabled(RULE_ID)
    groups = sorted({top_level(f.path) for f in snapshot.files})
    if len(groups) <= rule.max_top_level_dirs:
        where = ", ".join(groups) if groups else "no files"
        return Verdict(RULE_ID, Outcome.PASS, f"Changes stay within {where}.")
    # Step 2: "DO NOT bundle 'while I'm in here' cleanups; they bypass review." Spread alone
    # does not prove bundling, so it only advises unless the policy makes it blocking.
    return Verdict(
        RULE_ID,
        Outcome.FAIL if rule.blocking else Outcome.NEUTRAL,
        f"Changes span {len(groups)} top-level directories ({', '.join(groups)}); the policy "
        f"allows {rule.max_top_level_dirs}: one concern per hotfix, so move unrelated changes "
        "to their own PR.",
    )
