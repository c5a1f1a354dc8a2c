from __future__ import annotations

import pytest

from app.rules import cleanup_links_hotfix
from app.rules.model import Outcome, PullRequestSnapshot
from tests.rules.factories import INCIDENT, NOW, assert_verdict, cleanup_pr, policy

CASES = [
    pytest.param(cleanup_pr(), Outcome.PASS, "", id="incident id and PR number pass"),
    pytest.param(
        cleanup_pr(body="Follows https://github.com/acme/catalog/pull/4321"),
        Outcome.PASS,
        "",
        id="a PR URL counts as the link",
    ),
    pytest.param(
        cleanup_pr(body="Follows acme/catalog#4321"),
        Outcome.PASS,
        "",
        id="a cross-repo reference counts as the link",
    ),
    pytest.param(
        cleanup_pr(body=f"Tests for {INCIDENT}."),
        Outcome.FAIL,
        "does not name the hotfix PR",
        id="no PR reference fails",
    ),
    pytest.param(
        cleanup_pr(title="Cleanup: catalog tests", body="Follows hotfix #4321."),
        Outcome.FAIL,
        "does not name the incident id",
        id="no incident id fails",
    ),
    pytest.param(
        cleanup_pr(title="Cleanup", body="it&#39;s done"),
        Outcome.FAIL,
        "the incident id or the hotfix PR",
        id="an HTML entity is not a PR reference",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "fragment"), CASES)
def test_cleanup_links_hotfix(
    snapshot: PullRequestSnapshot, outcome: Outcome, fragment: str
) -> None:
    assert_verdict(cleanup_links_hotfix.check(snapshot, policy(), NOW), outcome, fragment)
