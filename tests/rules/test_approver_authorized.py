from __future__ import annotations

import pytest

from app.rules import approver_authorized
from app.rules.model import Outcome, PullRequestSnapshot
from tests.rules.factories import NOW, assert_verdict, commit, hotfix_pr, policy, teams

CASES = [
    pytest.param(
        hotfix_pr(),
        Outcome.PASS,
        "@alice may approve",
        id="an SRE lead who did not write it passes",
    ),
    pytest.param(
        hotfix_pr(teams=teams(eng_managers=["Alice"])),
        Outcome.PASS,
        "",
        id="an engineering manager passes",
    ),
    pytest.param(
        hotfix_pr(teams=teams(sre_leads=["carol"])),
        Outcome.FAIL,
        "@alice is not an active member of sre-leads or eng-managers",
        id="an approver outside the approver teams fails",
    ),
    pytest.param(
        hotfix_pr(author_login="Alice"),
        Outcome.FAIL,
        "@alice wrote this change and cannot approve it",
        id="the PR author approving their own hotfix fails",
    ),
    pytest.param(
        hotfix_pr(commits=(commit(author_login="alice"),)),
        Outcome.FAIL,
        "wrote this change",
        id="a commit author approving fails",
    ),
    pytest.param(
        hotfix_pr(commits=(commit(committer_login="alice"),)),
        Outcome.FAIL,
        "wrote this change",
        id="a committer approving fails",
    ),
    pytest.param(
        hotfix_pr(commits=(commit("fix"),), body=""),
        Outcome.FAIL,
        "No approver to check",
        id="no approver named fails",
    ),
    pytest.param(
        hotfix_pr(commits=(commit("fix"),), body="Approver: @alice"),
        Outcome.PASS,
        "",
        id="an approver named only in the body is checked",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "fragment"), CASES)
def test_approver_authorized(
    snapshot: PullRequestSnapshot, outcome: Outcome, fragment: str
) -> None:
    assert_verdict(approver_authorized.check(snapshot, policy(), NOW), outcome, fragment)


def test_approver_teams_come_from_the_policy() -> None:
    custom = policy("teams: {approvers: [incident-commanders]}")
    snapshot = hotfix_pr(teams=teams(incident_commanders=["alice"]))
    assert approver_authorized.check(snapshot, custom, NOW).outcome is Outcome.PASS
    assert approver_authorized.check(hotfix_pr(), custom, NOW).outcome is Outcome.FAIL
