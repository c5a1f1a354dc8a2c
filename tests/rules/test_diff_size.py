from __future__ import annotations

import pytest

from app.rules import diff_size
from app.rules.model import ChangedFile, Outcome
from tests.rules.factories import NOW, assert_verdict, files, hotfix_pr, policy

CASES = [
    pytest.param(
        files(("app/a.go", 30, 19)), Outcome.PASS, "49 changed lines", id="49 changed lines pass"
    ),
    pytest.param(
        files(("app/a.go", 30, 20)),
        Outcome.FAIL,
        "50 changed lines; a hotfix must stay under 50.",
        id="50 changed lines fail",
    ),
    pytest.param(
        files(("app/a.go", 20), ("app/b.go", 20), ("app/c.go", 10)),
        Outcome.FAIL,
        "50 changed lines",
        id="lines are summed over files",
    ),
    pytest.param(
        files(
            ("app/a.go", 10), ("go.sum", 400), ("web/package-lock.json", 900), ("x/Cargo.lock", 5)
        ),
        Outcome.PASS,
        "10 changed lines (3 generated files not counted)",
        id="lock files are not counted",
    ),
    pytest.param((), Outcome.PASS, "0 changed lines", id="an empty diff passes"),
]


@pytest.mark.parametrize(("changed", "outcome", "fragment"), CASES)
def test_diff_size(changed: tuple[ChangedFile, ...], outcome: Outcome, fragment: str) -> None:
    assert_verdict(diff_size.check(hotfix_pr(files=changed), policy(), NOW), outcome, fragment)


def test_failure_annotates_the_largest_files_first_at_most_ten() -> None:
    changed = files(*((f"app/f{i:02}.go", i) for i in range(1, 16)), ("app/big.go", 60))
    verdict = diff_size.check(hotfix_pr(files=changed), policy(), NOW)
    assert len(verdict.annotations) == 10
    first, second = verdict.annotations[:2]
    assert (first.path, first.level, first.start_line) == ("app/big.go", "failure", 1)
    assert (second.path, second.level) == ("app/f15.go", "warning")
    assert "60 of the PR's 180 changed lines" in first.message


def test_truncated_file_list_fails_closed() -> None:
    verdict = diff_size.check(hotfix_pr(files_truncated=True), policy(), NOW)
    assert verdict.outcome is Outcome.FAIL
    assert "more files or commits than GitHub can list" in verdict.message


def test_limit_and_ignore_list_come_from_the_policy() -> None:
    custom = policy("rules: {diff-size: {max_lines: 10, ignore: ['gen/**']}}")
    changed = files(("app/a.go", 9), ("gen/api.pb.go", 500), ("go.sum", 3))
    verdict = diff_size.check(hotfix_pr(files=changed), custom, NOW)
    # The override's ignore list replaces the default one, so go.sum counts again.
    assert verdict.outcome is Outcome.FAIL
    assert verdict.message.startswith("12 changed lines; a hotfix must stay under 10.")
