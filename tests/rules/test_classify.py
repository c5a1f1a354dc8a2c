from __future__ import annotations

import pytest

from app.rules.classify import classify
from app.rules.model import Lane, PullRequestSnapshot
from tests.rules.factories import cleanup_pr, hotfix_pr, ordinary_pr, policy

CASES = [
    pytest.param(hotfix_pr(), Lane.HOTFIX, id="all three markers is a hotfix"),
    pytest.param(ordinary_pr(labels=("hotfix",)), Lane.HOTFIX, id="the label alone is a hotfix"),
    pytest.param(
        ordinary_pr(head_ref="hotfix/x"), Lane.HOTFIX, id="the branch prefix alone is a hotfix"
    ),
    pytest.param(
        ordinary_pr(title="Hotfix: x"), Lane.HOTFIX, id="the title prefix in any case is a hotfix"
    ),
    pytest.param(
        ordinary_pr(title="Fix the hotfix docs"), Lane.ORDINARY, id="hotfix mid-title is ordinary"
    ),
    pytest.param(
        ordinary_pr(head_ref="my-hotfix/x"), Lane.ORDINARY, id="hotfix mid-branch is ordinary"
    ),
    pytest.param(cleanup_pr(), Lane.CLEANUP, id="a cleanup branch is cleanup"),
    pytest.param(
        cleanup_pr(labels=("hotfix",)),
        Lane.CLEANUP,
        id="a cleanup branch with the hotfix label stays cleanup so its rules can object",
    ),
    pytest.param(ordinary_pr(), Lane.ORDINARY, id="anything else is ordinary"),
]


@pytest.mark.parametrize(("snapshot", "lane"), CASES)
def test_classify(snapshot: PullRequestSnapshot, lane: Lane) -> None:
    assert classify(snapshot, policy()) is lane


def test_markers_come_from_the_policy() -> None:
    custom = policy(
        "lane: {label: emergency, branch_prefix: 'emergency/', title_prefix: 'EMERGENCY'}"
    )
    assert classify(ordinary_pr(labels=("emergency",)), custom) is Lane.HOTFIX
    assert classify(hotfix_pr(), custom) is Lane.ORDINARY
