from __future__ import annotations

import pytest

from app.rules import cleanup_owner
from app.rules.model import Outcome, PullRequestSnapshot
from tests.rules.factories import HOTFIX_BODY, NOW, assert_verdict, commit, hotfix_pr, policy

CASES = [
    pytest.param(
        hotfix_pr(),
        Outcome.PASS,
        "@bob owns the cleanup PR, due within 24 hours",
        id="commit and body naming the same owner pass",
    ),
    pytest.param(
        hotfix_pr(commits=(commit("fix"),)),
        Outcome.PASS,
        "@bob",
        id="a Cleanup-owner body line alone passes",
    ),
    pytest.param(
        hotfix_pr(body=""), Outcome.PASS, "@bob", id="a cleanup commit trailer alone passes"
    ),
    pytest.param(
        hotfix_pr(commits=(commit("fix"),), body="Cleanup PR: <will follow within 24h>"),
        Outcome.FAIL,
        "No cleanup owner named",
        id="no owner named fails",
    ),
    pytest.param(
        hotfix_pr(body=HOTFIX_BODY.replace("Cleanup-owner: @bob", "Cleanup-owner: @erin")),
        Outcome.FAIL,
        "Several cleanup owners named (@bob, @erin)",
        id="two different owners fail",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "fragment"), CASES)
def test_cleanup_owner(snapshot: PullRequestSnapshot, outcome: Outcome, fragment: str) -> None:
    assert_verdict(cleanup_owner.check(snapshot, policy(), NOW), outcome, fragment)


def test_deadline_in_the_message_comes_from_the_policy() -> None:
    custom = policy("follow_ups: {cleanup_hours: 12}")
    assert "within 12 hours" in cleanup_owner.check(hotfix_pr(), custom, NOW).message
