from __future__ import annotations

import pytest

from app.rules import markers
from app.rules.model import Outcome, PullRequestSnapshot
from tests.rules.factories import INCIDENT, NOW, OTHER_INCIDENT, assert_verdict, hotfix_pr, policy

CASES = [
    pytest.param(
        hotfix_pr(), Outcome.PASS, INCIDENT, id="label, branch and title all present pass"
    ),
    pytest.param(
        hotfix_pr(title=f"hotfix: {INCIDENT} fix"),
        Outcome.PASS,
        "",
        id="title prefix is case-insensitive",
    ),
    pytest.param(
        hotfix_pr(labels=("Hotfix",)), Outcome.PASS, "", id="label name is case-insensitive"
    ),
    pytest.param(
        hotfix_pr(labels=()), Outcome.FAIL, "add the label 'hotfix'", id="missing label fails"
    ),
    pytest.param(
        hotfix_pr(head_ref=f"fix/{INCIDENT}"),
        Outcome.FAIL,
        "'hotfix/",
        id="branch without prefix fails",
    ),
    pytest.param(
        hotfix_pr(title=f"{INCIDENT} catalog fix"),
        Outcome.FAIL,
        "start the title with 'HOTFIX:'",
        id="title without prefix fails",
    ),
    pytest.param(
        hotfix_pr(head_ref="hotfix/catalog-nil-deref"),
        Outcome.FAIL,
        "incident id in the branch name",
        id="branch without incident id fails",
    ),
    pytest.param(
        hotfix_pr(title="HOTFIX: catalog nil-deref"),
        Outcome.FAIL,
        "incident id in the title",
        id="title without incident id fails",
    ),
    pytest.param(
        hotfix_pr(title=f"HOTFIX: {OTHER_INCIDENT} catalog"),
        Outcome.FAIL,
        "name the same incident",
        id="branch and title naming different incidents fail",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "fragment"), CASES)
def test_markers(snapshot: PullRequestSnapshot, outcome: Outcome, fragment: str) -> None:
    assert_verdict(markers.check(snapshot, policy(), NOW), outcome, fragment)


def test_every_missing_marker_is_listed_in_one_message() -> None:
    verdict = markers.check(hotfix_pr(labels=(), title="fix it"), policy(), NOW)
    assert "add the label" in verdict.message
    assert "start the title" in verdict.message


LOCAL_CASES = [
    pytest.param(hotfix_pr(labels=()), True, Outcome.PASS, id="locally the label is not required"),
    pytest.param(
        hotfix_pr(labels=(), title="hotfix(catalog): nil-deref"),
        False,
        Outcome.PASS,
        id="locally a plain commit subject is not held to the title rules",
    ),
    pytest.param(
        hotfix_pr(labels=(), title=f"HOTFIX: {OTHER_INCIDENT} catalog"),
        True,
        Outcome.FAIL,
        id="locally a HOTFIX subject naming another incident fails",
    ),
    pytest.param(
        hotfix_pr(labels=(), head_ref="hotfix/catalog", title="hotfix(catalog): fix"),
        False,
        Outcome.FAIL,
        id="locally a branch without an incident id fails",
    ),
]


@pytest.mark.parametrize(("snapshot", "check_title", "outcome"), LOCAL_CASES)
def test_local_markers(snapshot: PullRequestSnapshot, check_title: bool, outcome: Outcome) -> None:
    local = markers.check_markers(snapshot, policy(), require_label=False, check_title=check_title)
    assert_verdict(local, outcome)
    assert "in the title" not in local.message or check_title
