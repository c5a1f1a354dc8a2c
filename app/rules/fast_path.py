"""fast-path: the CI fast-path checks (lint, unit tests, build-sign-push) passed on the head."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import ci
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.verdicts import disabled

RULE_ID = "fast-path"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    rule = policy.rules.fast_path
    if not rule.enabled:
        return disabled(RULE_ID)
    # Step 4: "Wait for: lint, unit-changed-package, scan, build-sign-push. All green."
    states = {name: ci.state_of(ci.matching(snapshot.checks, [name])) for name in rule.checks}
    failed = [name for name, state in states.items() if state is ci.CheckState.FAILED]
    if failed:
        return Verdict(
            RULE_ID,
            Outcome.FAIL,
            f"Fast-path {_checks(failed)} failed: {', '.join(failed)}. Fix and push again; "
            "the fast-path must be green before the merge.",
        )
    waiting = [name for name, state in states.items() if state is not ci.CheckState.PASSED]
    if waiting:
        return Verdict(
            RULE_ID,
            Outcome.PENDING,
            f"Waiting for fast-path {_checks(waiting)}: {', '.join(waiting)} (the "
            f"'{policy.lane.label}' label starts the fast-path workflow).",
        )
    return Verdict(RULE_ID, Outcome.PASS, f"Fast-path checks passed: {', '.join(rule.checks)}.")


def _checks(names: list[str]) -> str:
    return "check" if len(names) == 1 else "checks"
