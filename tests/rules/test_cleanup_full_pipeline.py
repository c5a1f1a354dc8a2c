from __future__ import annotations

import pytest

from app.rules import cleanup_full_pipeline
from app.rules.model import Outcome, PullRequestSnapshot
from tests.rules.factories import INCIDENT, NOW, assert_verdict, cleanup_pr, policy

CASES = [
    pytest.param(cleanup_pr(), Outcome.PASS, "", id="a cleanup PR without hotfix markers passes"),
    pytest.param(
        cleanup_pr(labels=("HOTFIX",)),
        Outcome.FAIL,
        "remove the 'hotfix' label",
        id="the hotfix label fails",
    ),
    pytest.param(
        cleanup_pr(title=f"HOTFIX: {INCIDENT} tests"),
        Outcome.FAIL,
        "remove the 'HOTFIX:' title prefix",
        id="the HOTFIX title prefix fails",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "fragment"), CASES)
def test_cleanup_full_pipeline(
    snapshot: PullRequestSnapshot, outcome: Outcome, fragment: str
) -> None:
    assert_verdict(cleanup_full_pipeline.check(snapshot, policy(), NOW), outcome, fragment)
