"""Snapshots and policies for rule tests: a hotfix PR that follows the runbook to the letter.

Tests start from ``hotfix_pr()`` and change only what the case is about, so each table row
reads as the one thing that differs from a correct hotfix.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from app.policy.loader import DEFAULT_SOURCE, default_policy, default_policy_text, load_policy
from app.policy.model import Policy
from app.rules.model import (
    ChangedFile,
    CheckResult,
    Commit,
    LaneHistory,
    Outcome,
    PullRequestSnapshot,
    Verdict,
)
from app.rules.text import co_author_trailers

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
INCIDENT = "INC-2026-05-20-001"
OTHER_INCIDENT = "INC-2026-05-21-002"

HOTFIX_MESSAGE = f"""hotfix(catalog): nil-deref on missing tenant header

{INCIDENT}
approver: @alice
cleanup: @bob will open follow-up PR with tests within 24h."""

HOTFIX_BODY = """P0 incident - bypassing normal review.
Approver: @alice
Cleanup-owner: @bob
Cleanup PR: <will follow within 24h>

- [x] A feature-flag flip cannot mitigate this
- [x] A rollback cannot mitigate this (no rollback target)
"""

FAST_PATH = ("lint", "unit-changed-package", "scan", "build-sign-push")


def policy(override: str | None = None) -> Policy:
    """The default policy, or the defaults with a YAML override merged over them."""
    if override is None:
        return default_policy()
    return load_policy([(DEFAULT_SOURCE, default_policy_text()), ("test.yml", override)])


def commit(message: str = HOTFIX_MESSAGE, sha: str = "a1b2c3d4e5", **fields: Any) -> Commit:
    """A commit by @bob; its ``co_authors`` read from ``message``, as the gateway reads them."""
    fields.setdefault("author_login", "bob")
    fields.setdefault("co_authors", co_author_trailers(message))
    return Commit(sha=sha, message=message, **fields)


def check(name: str, conclusion: str | None = "success", status: str = "completed") -> CheckResult:
    return CheckResult(name=name, status=status, conclusion=conclusion)


def files(*changes: tuple[str, int] | tuple[str, int, int]) -> tuple[ChangedFile, ...]:
    """``files(("a.go", 10), ("b.go", 3, 1))``: path, additions[, deletions]."""
    return tuple(ChangedFile(c[0], c[1], c[2] if len(c) == 3 else 0) for c in changes)


def hotfix_pr(**changes: Any) -> PullRequestSnapshot:
    """A hotfix PR that passes every rule, with ``changes`` applied."""
    return replace(_HOTFIX, **changes)


def cleanup_pr(**changes: Any) -> PullRequestSnapshot:
    """A cleanup PR that passes every cleanup rule, with ``changes`` applied."""
    return replace(_CLEANUP, **changes)


def ordinary_pr(**changes: Any) -> PullRequestSnapshot:
    return replace(_ORDINARY, **changes)


def teams(**members: list[str]) -> MappingProxyType[str, frozenset[str]]:
    """``teams(sre_leads=["alice"])``: underscores in keyword names become hyphens."""
    return MappingProxyType({k.replace("_", "-"): frozenset(v) for k, v in members.items()})


_HOTFIX = PullRequestSnapshot(
    repo_full_name="acme/catalog",
    number=4321,
    title=f"HOTFIX: {INCIDENT} catalog nil-deref on missing tenant header",
    body=HOTFIX_BODY,
    author_login="bob",
    head_ref=f"hotfix/{INCIDENT}-catalog-nil-deref",
    head_sha="f00dfeed",
    base_ref="main",
    labels=("hotfix",),
    commits=(commit(),),
    files=files(("services/catalog/handler.go", 3, 1)),
    checks=tuple(check(name) for name in FAST_PATH),
    teams=teams(sre_leads=["alice"]),
    # The approver confirmed this head with `/hotfix approve`.
    approver_confirmations=("alice",),
    # The ledger's count: no recent hotfix, the author's first this quarter.
    history=LaneHistory(merged_in_window=0, author_this_quarter=0, quarter="2026-Q2"),
)

_CLEANUP = PullRequestSnapshot(
    repo_full_name="acme/catalog",
    number=4330,
    title=f"Cleanup: {INCIDENT} catalog hotfix - tests + docs",
    body=f"Follows hotfix #4321 in {INCIDENT}.",
    author_login="bob",
    head_ref=f"cleanup/{INCIDENT}-catalog-tests",
    head_sha="beadfeed",
    base_ref="main",
    files=files(("services/catalog/handler_test.go", 80), ("docs/catalog.md", 12)),
)

_ORDINARY = PullRequestSnapshot(
    repo_full_name="acme/catalog",
    number=4400,
    title="Add pagination to the catalog list",
    body="",
    author_login="carol",
    head_ref="feature/pagination",
    head_sha="cafebabe",
    base_ref="main",
    files=files(("services/catalog/list.go", 300)),
)


def assert_verdict(verdict: Verdict, outcome: Outcome, fragment: str = "") -> None:
    """The verdict has ``outcome`` and its message contains ``fragment``."""
    assert verdict.outcome is outcome, f"{verdict.outcome}: {verdict.message}"
    assert fragment in verdict.message, verdict.message
