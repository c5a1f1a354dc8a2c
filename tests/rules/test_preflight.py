from __future__ import annotations

import pytest

from app.rules import preflight
from app.rules.model import Outcome
from tests.rules.factories import NOW, assert_verdict, hotfix_pr, policy

CASES = [
    pytest.param(
        "- [x] A feature-flag flip cannot mitigate this\n- [x] A rollback cannot mitigate this",
        Outcome.PASS,
        "",
        id="ticked flag and rollback items pass",
    ),
    pytest.param(
        "* [X] No FLAG covers it\n* [X] Cannot ROLL BACK: brand-new feature",
        Outcome.PASS,
        "",
        id="star bullets, capital X and any case pass",
    ),
    pytest.param(
        "- [x] Flag flip and roll-back both considered; neither mitigates",
        Outcome.PASS,
        "",
        id="one ticked item naming both passes",
    ),
    pytest.param(
        "- [ ] A feature-flag flip cannot mitigate this\n- [x] A rollback cannot mitigate this",
        Outcome.FAIL,
        "feature-flag flip",
        id="an unticked flag item fails",
    ),
    pytest.param(
        "- [x] A feature-flag flip cannot mitigate this",
        Outcome.FAIL,
        "'- [x] A rollback cannot mitigate this'",
        id="a missing rollback item fails",
    ),
    pytest.param(
        "We considered a flag and a rollback.",
        Outcome.FAIL,
        "Pre-flight not recorded",
        id="prose without a task list fails",
    ),
    pytest.param("", Outcome.FAIL, "Pre-flight not recorded", id="an empty body fails"),
]


@pytest.mark.parametrize(("body", "outcome", "fragment"), CASES)
def test_preflight(body: str, outcome: Outcome, fragment: str) -> None:
    assert_verdict(preflight.check(hotfix_pr(body=body), policy(), NOW), outcome, fragment)
