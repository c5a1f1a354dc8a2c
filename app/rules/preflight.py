"""preflight: the PR body records that a flag flip and a rollback were considered first."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "preflight"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.preflight.enabled:
        return disabled(RULE_ID)
    # Pre-flight: flip a flag first, else roll back first; a hotfix only when neither mitigates.
    ticked = text.checked_items(snapshot.body)
    missing: list[str] = []
    if not any(text.mentions_flag(item) for item in ticked):
        missing.append("'- [x] A feature-flag flip cannot mitigate this'")
    if not any(text.mentions_rollback(item) for item in ticked):
        missing.append("'- [x] A rollback cannot mitigate this'")
    if missing:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"Pre-flight not recorded: add {' and '.join(missing)} to the PR body "
            "(when a flag flip or a rollback mitigates, do that instead of a hotfix).",
        )
    return Verdict(
        RULE_ID, Outcome.PASS, "Pre-flight recorded: a flag flip and a rollback were ruled out."
    )
