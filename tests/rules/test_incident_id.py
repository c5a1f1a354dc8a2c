from __future__ import annotations

import pytest

from app.rules import incident_id
from app.rules.model import Outcome, PullRequestSnapshot
from tests.rules.factories import (
    HOTFIX_MESSAGE,
    INCIDENT,
    NOW,
    OTHER_INCIDENT,
    assert_verdict,
    commit,
    hotfix_pr,
    policy,
)

CASES = [
    pytest.param(
        hotfix_pr(),
        Outcome.PASS,
        f"Every commit names {INCIDENT}",
        id="one incident everywhere passes",
    ),
    pytest.param(
        hotfix_pr(commits=(commit(), commit("hotfix: typo", sha="0badc0ffee"))),
        Outcome.FAIL,
        "1 commit without INC-2026-05-20-001 (0badc0f)",
        id="a commit without the incident id fails",
    ),
    pytest.param(
        hotfix_pr(
            commits=(
                commit(),
                commit(
                    f"Merge branch 'main' into hotfix/{INCIDENT}",
                    parents=("a1b2c3d4e5", "9999999999"),
                    base_merge=True,
                ),
            )
        ),
        Outcome.PASS,
        "",
        id="a merge of the base branch needs no incident id",
    ),
    pytest.param(
        hotfix_pr(commits=(commit(), commit("Merge branch 'main' into hotfix/x", sha="0badc0f"))),
        Outcome.FAIL,
        "1 commit without INC-2026-05-20-001 (0badc0f)",
        id="a commit only titled like a merge of the base branch needs the incident id",
    ),
    pytest.param(
        hotfix_pr(commits=(commit(HOTFIX_MESSAGE + f"\nalso {OTHER_INCIDENT}"),)),
        Outcome.FAIL,
        "one concern per hotfix",
        id="two incidents in one PR fail",
    ),
    pytest.param(
        hotfix_pr(title=f"HOTFIX: {OTHER_INCIDENT}"),
        Outcome.FAIL,
        "2 incidents named",
        id="a title naming another incident fails",
    ),
    pytest.param(
        hotfix_pr(title="HOTFIX: fix", head_ref="hotfix/fix", commits=(commit("fix"),)),
        Outcome.FAIL,
        "No incident id found",
        id="no incident id anywhere fails",
    ),
    pytest.param(
        hotfix_pr(commits=(commit(HOTFIX_MESSAGE.replace("001", "0012")),)),
        Outcome.FAIL,
        "1 commit without",
        id="a longer number is not the incident id",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "fragment"), CASES)
def test_incident_id(snapshot: PullRequestSnapshot, outcome: Outcome, fragment: str) -> None:
    assert_verdict(incident_id.check(snapshot, policy(), NOW), outcome, fragment)


def test_pattern_comes_from_the_policy() -> None:
    custom = policy("incident: {pattern: 'SEV-\\d+'}")
    snapshot = hotfix_pr(
        title="HOTFIX: SEV-42 fix", head_ref="hotfix/SEV-42", commits=(commit("fix\n\nSEV-42"),)
    )
    assert incident_id.check(snapshot, custom, NOW).outcome is Outcome.PASS
