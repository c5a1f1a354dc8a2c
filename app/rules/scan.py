"""scan: a security scan (scan, Trivy, Snyk) passed on the head commit; it is never bypassed."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import ci, text
from app.rules.model import CheckResult, Outcome, PullRequestSnapshot, Verdict

RULE_ID = "scan"


def passed_cleanly(check: CheckResult) -> bool:
    # Stricter than CheckResult.succeeded: a *skipped* scan is a bypassed scan.
    return check.conclusion in {"success", "neutral"}


def trusted(checks: tuple[CheckResult, ...], apps: tuple[str, ...]) -> tuple[CheckResult, ...]:
    """The results that may speak for the scan: all, or the named Apps' check runs only."""
    allowed = {app.lower() for app in apps}
    if not allowed:
        return checks
    return tuple(
        c for c in checks if c.source == "check_run" and (c.app_slug or "").lower() in allowed
    )


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    # No `enabled` switch on purpose: "The fast-path NEVER skips scan" (step 4).
    wanted = policy.rules.scan.checks
    found = ci.matching(trusted(snapshot.checks, policy.rules.scan.apps), wanted)
    state = ci.state_of(found, passed=passed_cleanly)
    if state is ci.CheckState.MISSING:
        return Verdict(
            RULE_ID,
            Outcome.PENDING,
            f"Waiting for a security scan ({text.one_of(wanted)}) on the head commit; "
            "the fast-path never skips it.",
        )
    if state is ci.CheckState.FAILED:
        bad = ", ".join(
            f"{c.name}: {c.conclusion}"
            for c in found
            if c.status == "completed" and not passed_cleanly(c)
        )
        # Step 4: "A hotfix that introduces a CVE is not a hotfix. Flag flip / rollback instead."
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"Scan did not pass ({bad}): do not ship a hotfix with a known CVE; flip a feature "
            "flag or roll back instead.",
        )
    if state is ci.CheckState.RUNNING:
        return Verdict(
            RULE_ID, Outcome.PENDING, f"Waiting for the scan to finish ({ci.names(found)})."
        )
    return Verdict(RULE_ID, Outcome.PASS, f"Scan passed on the head commit ({ci.names(found)}).")
