from __future__ import annotations

import pytest

from app.rules import approver_named
from app.rules.model import Outcome, PullRequestSnapshot
from tests.rules.factories import (
    HOTFIX_BODY,
    HOTFIX_MESSAGE,
    NOW,
    assert_verdict,
    commit,
    hotfix_pr,
    policy,
)

CASES = [
    pytest.param(
        hotfix_pr(), Outcome.PASS, "@alice", id="commit and body naming the same approver pass"
    ),
    pytest.param(hotfix_pr(body=""), Outcome.PASS, "@alice", id="a commit trailer alone passes"),
    pytest.param(
        hotfix_pr(commits=(commit(HOTFIX_MESSAGE.replace("approver:", "Approver :")),)),
        Outcome.PASS,
        "",
        id="the trailer key is case-insensitive",
    ),
    pytest.param(
        hotfix_pr(body="- **Approver:** @Alice"),
        Outcome.PASS,
        "",
        id="markdown emphasis and login case in the body are ignored",
    ),
    pytest.param(
        hotfix_pr(commits=(commit("fix INC-2026-05-20-001"),)),
        Outcome.FAIL,
        "No commit names an approver: add a line 'approver: @login'",
        id="no approver trailer fails",
    ),
    pytest.param(
        hotfix_pr(commits=(commit("fix\napprover: @org/sre-leads"),)),
        Outcome.FAIL,
        "No commit names an approver",
        id="a team mention is not an approver",
    ),
    pytest.param(
        hotfix_pr(commits=(commit(), commit("fix\napprover: @carol", sha="2"))),
        Outcome.FAIL,
        "different approvers (@alice, @carol)",
        id="commits naming two approvers fail",
    ),
    pytest.param(
        hotfix_pr(body=HOTFIX_BODY.replace("Approver: @alice", "Approver: @dave")),
        Outcome.FAIL,
        "body names @dave",
        id="a body naming someone else fails",
    ),
    pytest.param(
        hotfix_pr(body="Approver: <name; an SRE Lead>"),
        Outcome.PASS,
        "",
        id="a body template without a handle is ignored",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "fragment"), CASES)
def test_approver_named(snapshot: PullRequestSnapshot, outcome: Outcome, fragment: str) -> None:
    assert_verdict(approver_named.check(snapshot, policy(), NOW), outcome, fragment)


def test_trailer_key_comes_from_the_policy() -> None:
    custom = policy("trailers: {commit: {approver: Approved-by}}")
    snapshot = hotfix_pr(commits=(commit("fix\n\nApproved-by: @alice"),))
    assert approver_named.check(snapshot, custom, NOW).outcome is Outcome.PASS
