"""The bypass decision at merge, from what was true of the merged head."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.rules.merge import MergeFacts, assess_merge
from app.rules.model import CheckResult, Review
from tests.rules.factories import policy


def ok(name: str) -> CheckResult:
    return CheckResult(name=name, status="completed", conclusion="success")


GOOD = MergeFacts(
    author="bob",
    policy_state="success",
    checks=(ok("scan"), ok("lint")),
    reviews=(Review("alice", "APPROVED"),),
    required_checks=frozenset({"scan", "lint"}),
    required_approvals=1,
    scan=policy().rules.scan,
)


@pytest.mark.parametrize(
    ("facts", "reasons"),
    [
        pytest.param(GOOD, (), id="everything required was met: no bypass"),
        pytest.param(
            replace(GOOD, policy_state="failure"),
            ("hotfix-lane/policy was failure",),
            id="merging past a red policy",
        ),
        pytest.param(
            replace(GOOD, policy_state=None),
            ("hotfix-lane/policy was never reported",),
            id="merging before we reported",
        ),
        pytest.param(
            replace(GOOD, checks=(ok("scan"),)),
            ("required check lint had not reported",),
            id="a required check missing",
        ),
        pytest.param(
            replace(GOOD, checks=(ok("scan"), CheckResult("lint", "completed", "failure"))),
            ("required check lint was failure",),
            id="a required check failed",
        ),
        pytest.param(
            replace(GOOD, checks=(ok("scan"), CheckResult("lint", "in_progress", None))),
            ("required check lint was in_progress",),
            id="a required check still running",
        ),
        pytest.param(
            replace(GOOD, reviews=()),
            ("0 approving review(s), 1 required",),
            id="no approving review",
        ),
        pytest.param(
            replace(GOOD, reviews=(Review("bob", "APPROVED"),)),
            ("0 approving review(s), 1 required",),
            id="the author's own approval",
        ),
        pytest.param(
            replace(
                GOOD, reviews=(Review("alice", "APPROVED"), Review("alice", "CHANGES_REQUESTED"))
            ),
            ("0 approving review(s), 1 required",),
            id="an approval later withdrawn",
        ),
        pytest.param(
            replace(GOOD, reviews=(), required_approvals=0), (), id="no review required, none given"
        ),
        pytest.param(
            replace(GOOD, checks=(ok("lint"), ok("e2e")), required_checks=frozenset()),
            (),
            id="optional checks do not count",
        ),
    ],
)
def test_assess_merge(facts: MergeFacts, reasons: tuple[str, ...]) -> None:
    findings = assess_merge(facts)
    assert findings.reasons == reasons
    assert findings.bypassed == bool(reasons)


@pytest.mark.parametrize(
    ("checks", "state"),
    [
        pytest.param((ok("lint"),), "missing", id="no scan check is missing"),
        pytest.param((ok("Trivy"),), "passed", id="a passing trivy passes"),
        pytest.param(
            (CheckResult("snyk", "completed", "skipped"),),
            "failed",
            id="a skipped scan counts as failed",
        ),
        pytest.param(
            (CheckResult("scan", "in_progress", None),), "running", id="a running scan is running"
        ),
    ],
)
def test_scan_state_at_merge(checks: tuple[CheckResult, ...], state: str) -> None:
    assert (
        assess_merge(replace(GOOD, checks=checks, required_checks=frozenset())).scan_state == state
    )


def test_at_merge_a_hand_set_scan_status_does_not_count_when_apps_are_named() -> None:
    by_hand = CheckResult("scan", "completed", "success", source="status")
    facts = replace(
        GOOD,
        checks=(by_hand,),
        required_checks=frozenset(),
        scan=policy("rules: {scan: {apps: [github-actions]}}").rules.scan,
    )
    assert assess_merge(facts).scan_state == "missing"
