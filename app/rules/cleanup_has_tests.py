"""cleanup-has-tests: a cleanup PR adds or changes at least one test."""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict
from app.rules.paths import matches_any
from app.rules.verdicts import disabled

RULE_ID = "cleanup-has-tests"


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if not policy.rules.cleanup_has_tests.enabled:
        return disabled(RULE_ID)
    # Step 7: "Add the tests that would have caught the bug." Deleting a test is no such test.
    tests = [
        f.path
        for f in snapshot.files
        if f.status != "removed" and matches_any(f.path, policy.cleanup.test_globs)
    ]
    if tests:
        return Verdict(
            RULE_ID,
            Outcome.PASS,
            f"Adds or changes {text.plural(len(tests), 'test file')}, e.g. {tests[0]}.",
        )
    return Verdict(
        RULE_ID,
        Outcome.FAIL,
        "No test added or changed: add the regression test that would have caught the bug "
        "(test paths are those matching cleanup.test_globs in the policy).",
    )
