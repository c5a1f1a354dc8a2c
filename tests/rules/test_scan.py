from __future__ import annotations

import pytest

from app.rules import scan
from app.rules.model import CheckResult, Outcome
from tests.rules.factories import NOW, assert_verdict, check, hotfix_pr, policy

CASES = [
    pytest.param((check("scan"),), Outcome.PASS, id="a passing scan check passes"),
    pytest.param((check("Trivy"),), Outcome.PASS, id="the name is case-insensitive"),
    pytest.param((check("security/snyk"),), Outcome.PASS, id="a name segment matches"),
    pytest.param((check("trivy (image)"),), Outcome.PASS, id="a whole word matches"),
    pytest.param((check("scanner"),), Outcome.PENDING, id="a longer word does not match"),
    pytest.param((), Outcome.PENDING, id="no scan check is pending"),
    pytest.param((check("lint"),), Outcome.PENDING, id="only other checks is pending"),
    pytest.param(
        (check("scan", None, status="in_progress"),),
        Outcome.PENDING,
        id="a running scan is pending",
    ),
    pytest.param(
        (check("scan", None, status="queued"),), Outcome.PENDING, id="a queued scan is pending"
    ),
    pytest.param((check("scan", "failure"),), Outcome.FAIL, id="a failed scan fails"),
    pytest.param((check("snyk", "cancelled"),), Outcome.FAIL, id="a cancelled scan fails"),
    pytest.param((check("trivy", "skipped"),), Outcome.FAIL, id="a skipped scan fails"),
    pytest.param(
        (check("trivy"), check("snyk", "failure")),
        Outcome.FAIL,
        id="one failing scanner among passing ones fails",
    ),
    pytest.param(
        (check("trivy"), check("snyk", None, status="in_progress")),
        Outcome.PENDING,
        id="one scanner still running is pending",
    ),
]


@pytest.mark.parametrize(("checks", "outcome"), CASES)
def test_scan(checks: tuple[CheckResult, ...], outcome: Outcome) -> None:
    assert_verdict(scan.check(hotfix_pr(checks=checks), policy(), NOW), outcome)


def test_failure_says_not_to_ship_a_known_cve() -> None:
    verdict = scan.check(hotfix_pr(checks=(check("trivy", "failure"),)), policy(), NOW)
    assert "trivy: failure" in verdict.message
    assert "known CVE" in verdict.message
    assert "flip a feature flag or roll back" in verdict.message


def test_scan_names_come_from_the_policy() -> None:
    custom = policy("rules: {scan: {checks: [grype]}}")
    assert scan.check(hotfix_pr(checks=(check("Grype"),)), custom, NOW).outcome is Outcome.PASS
    assert scan.check(hotfix_pr(checks=(check("trivy"),)), custom, NOW).outcome is Outcome.PENDING


TRUSTED = policy("rules:\n  scan:\n    apps: [github-actions]\n")


@pytest.mark.parametrize(
    ("checks", "outcome"),
    [
        pytest.param(
            (CheckResult("scan", "completed", "success", app_slug="github-actions"),),
            Outcome.PASS,
            id="the trusted app's scan run passes",
        ),
        pytest.param(
            (CheckResult("scan", "completed", "success", source="status"),),
            Outcome.PENDING,
            id="a scan status set by anyone does not count",
        ),
        pytest.param(
            (CheckResult("scan", "completed", "success", app_slug="someone-else"),),
            Outcome.PENDING,
            id="another app's scan run does not count",
        ),
        pytest.param(
            (CheckResult("Trivy", "completed", "failure", app_slug="GitHub-Actions"),),
            Outcome.FAIL,
            id="the trusted app's failed scan fails",
        ),
    ],
)
def test_only_the_named_apps_can_speak_for_the_scan(
    checks: tuple[CheckResult, ...], outcome: Outcome
) -> None:
    assert scan.check(hotfix_pr(checks=checks), TRUSTED, NOW).outcome is outcome
