from __future__ import annotations

import pytest

from app.rules import cleanup_has_tests
from app.rules.model import ChangedFile, Outcome
from tests.rules.factories import NOW, assert_verdict, cleanup_pr, files, policy

CASES = [
    pytest.param(
        files(("services/catalog/handler_test.go", 5)), Outcome.PASS, id="a Go test file passes"
    ),
    pytest.param(
        files(("tests/test_catalog.py", 5)), Outcome.PASS, id="a top-level tests directory passes"
    ),
    pytest.param(
        files(("svc/a/tests/fixtures.json", 5)), Outcome.PASS, id="a nested tests directory passes"
    ),
    pytest.param(files(("svc/test_handler.py", 5)), Outcome.PASS, id="a nested python test passes"),
    pytest.param(files(("web/src/list.test.ts", 5)), Outcome.PASS, id="a TypeScript test passes"),
    pytest.param(files(("docs/catalog.md", 5)), Outcome.FAIL, id="docs alone fail"),
    pytest.param(
        files(("svc/contest.go", 5)), Outcome.FAIL, id="a name merely containing test fails"
    ),
    pytest.param(
        (ChangedFile("tests/test_old.py", 0, 40, status="removed"),),
        Outcome.FAIL,
        id="deleting a test is not adding one",
    ),
]


@pytest.mark.parametrize(("changed", "outcome"), CASES)
def test_cleanup_has_tests(changed: tuple[ChangedFile, ...], outcome: Outcome) -> None:
    assert_verdict(cleanup_has_tests.check(cleanup_pr(files=changed), policy(), NOW), outcome)


def test_test_globs_come_from_the_policy() -> None:
    custom = policy("cleanup: {test_globs: ['spec/**']}")
    snapshot = cleanup_pr(files=files(("spec/catalog_spec.rb", 3)))
    assert cleanup_has_tests.check(snapshot, custom, NOW).outcome is Outcome.PASS
