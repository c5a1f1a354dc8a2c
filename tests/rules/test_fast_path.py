from __future__ import annotations

import pytest

from app.rules import fast_path
from app.rules.model import CheckResult, Outcome
from tests.rules.factories import NOW, assert_verdict, check, hotfix_pr, policy

GREEN = (check("lint"), check("unit-changed-package"), check("build-sign-push"))

CASES = [
    pytest.param(GREEN, Outcome.PASS, "", id="all fast-path checks green pass"),
    pytest.param(
        (*GREEN[:2], check("Build-Sign-Push / ecr")),
        Outcome.PASS,
        "",
        id="names match case-insensitively as a segment",
    ),
    pytest.param(
        (*GREEN[:2], check("build-sign-push", "skipped")),
        Outcome.PASS,
        "",
        id="a skipped fast-path job passes",
    ),
    pytest.param(GREEN[:2], Outcome.PENDING, "build-sign-push", id="a missing check is pending"),
    pytest.param(
        (*GREEN[:2], check("build-sign-push", None, status="in_progress")),
        Outcome.PENDING,
        "Waiting for fast-path check: build-sign-push",
        id="a running check is pending",
    ),
    pytest.param(
        (check("lint", "failure"), *GREEN[1:]),
        Outcome.FAIL,
        "failed: lint",
        id="a failed check fails",
    ),
    pytest.param(
        (check("lint", "timed_out"), GREEN[1]),
        Outcome.FAIL,
        "failed: lint",
        id="a failure wins over a missing check",
    ),
]


@pytest.mark.parametrize(("checks", "outcome", "fragment"), CASES)
def test_fast_path(checks: tuple[CheckResult, ...], outcome: Outcome, fragment: str) -> None:
    assert_verdict(fast_path.check(hotfix_pr(checks=checks), policy(), NOW), outcome, fragment)
