"""scan: a security scan (scan, Trivy, Snyk) passed on the head commit; it is never bypassed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.policy.model import Policy, Scan
from app.rules import ci, text
from app.rules.model import CheckResult, Outcome, PullRequestSnapshot, Verdict

RULE_ID = "scan"


def passed_cleanly(check: CheckResult) -> bool:
    # Stricter than CheckResult.succeeded: a *skipped* scan is a bypassed scan.
    return check.conclusion in {"success", "neutral"}


# The App whose check runs a pull request can write for itself by changing its workflows.
ACTIONS_APP = "github-actions"


@dataclass(frozen=True)
class Scans:
    """The results that speak for the scan, and what was set aside and why."""

    trusted: tuple[CheckResult, ...]
    # Why matching results do not count, when some do not (shown on the check run).
    distrusted: str | None = None


def scans(checks: tuple[CheckResult, ...], scan_policy: Scan, changed: tuple[str, ...]) -> Scans:
    """Which results may speak for the scan, judged the same way for a PR and at its merge.

    Commit statuses only when the organisation allows them; check runs only from the Apps in
    ``rules.scan.apps`` (any App when empty); and no github-actions check run when the PR
    changes a path under ``untrusted_when_changed``: it could report its own scan.
    """
    found = ci.matching(checks, scan_policy.checks)
    allowed = {app.lower() for app in scan_policy.apps}
    kept: list[CheckResult] = []
    reasons: list[str] = []
    touched = [path for path in changed if path.startswith(scan_policy.untrusted_when_changed)]
    for result in found:
        app = (result.app_slug or "").lower()
        if result.source != "check_run":
            if scan_policy.allow_statuses:
                kept.append(result)
            else:
                reasons.append(f"{result.name} is a commit status, which anyone who can push sets")
        elif allowed and app not in allowed:
            source = app or "an unknown App"
            reasons.append(f"{result.name} comes from {source}, not {text.one_of(sorted(allowed))}")
        elif app == ACTIONS_APP and touched:
            reasons.append(
                f"{result.name} comes from a workflow, and this PR changes {touched[0]}: "
                "it could have written its own scan"
            )
        else:
            kept.append(result)
    return Scans(tuple(kept), "; ".join(dict.fromkeys(reasons)) or None)


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    # No `enabled` switch on purpose: "The fast-path NEVER skips scan" (step 4).
    wanted = policy.rules.scan.checks
    judged = scans(snapshot.checks, policy.rules.scan, tuple(f.path for f in snapshot.files))
    found = judged.trusted
    state = ci.state_of(found, passed=passed_cleanly)
    if state is ci.CheckState.MISSING and judged.distrusted:
        # Not green, and still waiting: the scanner's own check run may yet report.
        return Verdict(
            RULE_ID,
            Outcome.PENDING,
            f"Waiting for a scan that counts: {judged.distrusted}. A scan check run from the "
            "scanner's App must pass on the head commit.",
        )
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
