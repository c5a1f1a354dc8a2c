from __future__ import annotations

import pytest

from app.rules import single_concern
from app.rules.model import ChangedFile, Outcome
from tests.rules.factories import NOW, assert_verdict, files, hotfix_pr, policy

TWO_DIRS = files(("services/a.go", 1), ("docs/a.md", 1))

CASES = [
    pytest.param(
        files(("services/catalog/a.go", 1), ("services/orders/b.go", 1)),
        "",
        Outcome.PASS,
        id="files in one top-level directory pass",
    ),
    pytest.param(
        files(("go.mod", 1), ("Makefile", 1)), "", Outcome.PASS, id="root files count as one group"
    ),
    pytest.param(
        TWO_DIRS,
        "",
        Outcome.NEUTRAL,
        id="two top-level directories are advisory",
    ),
    pytest.param(
        files(("services/a.go", 1), ("go.mod", 1)),
        "",
        Outcome.NEUTRAL,
        id="a directory plus a root file is two groups",
    ),
    pytest.param(
        TWO_DIRS,
        "rules: {single-concern: {blocking: true}}",
        Outcome.FAIL,
        id="two top-level directories fail when blocking",
    ),
    pytest.param(
        TWO_DIRS,
        "rules: {single-concern: {max_top_level_dirs: 2}}",
        Outcome.PASS,
        id="a raised limit passes",
    ),
]


@pytest.mark.parametrize(("changed", "override", "outcome"), CASES)
def test_single_concern(changed: tuple[ChangedFile, ...], override: str, outcome: Outcome) -> None:
    assert_verdict(single_concern.check(hotfix_pr(files=changed), policy(override), NOW), outcome)


def test_message_lists_the_directories() -> None:
    changed = files(("services/a.go", 1), ("docs/a.md", 1), ("go.mod", 1))
    verdict = single_concern.check(hotfix_pr(files=changed), policy(), NOW)
    assert "3 top-level directories ((root), docs, services)" in verdict.message
