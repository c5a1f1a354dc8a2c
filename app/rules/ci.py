"""Matching configured check names against the check runs and statuses on the head commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import StrEnum

from app.rules.model import CheckResult


class CheckState(StrEnum):
    MISSING = "missing"
    RUNNING = "running"
    FAILED = "failed"
    PASSED = "passed"


_QUALIFIER = re.compile(r"\s*\([^()]*\)$")


def name_matches(check_name: str, wanted: str) -> bool:
    """Case-insensitive match of the whole name, or of one ``/``-separated segment of it.

    A trailing qualifier in brackets is ignored, as GitHub Actions appends the event. "Trivy",
    "security/snyk", "CI / trivy (pull_request)" and "trivy (image)" match "trivy"; neither
    "scanner" nor "docs / skip-scan" nor "not a scan" matches "scan": a name someone can choose
    must not pass for the scan by containing the word.
    """
    target = wanted.strip().lower()
    segments = [_QUALIFIER.sub("", part).strip() for part in check_name.lower().split("/")]
    return target in segments


def matching(checks: Iterable[CheckResult], names: Iterable[str]) -> tuple[CheckResult, ...]:
    wanted = tuple(names)
    return tuple(c for c in checks if any(name_matches(c.name, name) for name in wanted))


def state_of(
    checks: Iterable[CheckResult],
    passed: Callable[[CheckResult], bool] = lambda check: check.succeeded,
) -> CheckState:
    """One state for several results of the same check (a matrix, or a run and a status).

    Any failure wins, then anything unfinished; ``passed`` decides what a good conclusion is.
    """
    found = tuple(checks)
    if not found:
        return CheckState.MISSING
    if any(c.status == "completed" and not passed(c) for c in found):
        return CheckState.FAILED
    if any(c.status != "completed" for c in found):
        return CheckState.RUNNING
    return CheckState.PASSED


def names(checks: Iterable[CheckResult]) -> str:
    return ", ".join(sorted({c.name for c in checks}))
