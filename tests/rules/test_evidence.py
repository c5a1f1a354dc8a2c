"""The evidence kept with an evaluation: who named whom, which check counted, what changed."""

from __future__ import annotations

from app.policy.layers import PolicyLayer, Scope
from app.policy.loader import DEFAULT_SOURCE, default_policy_text, load_policy
from app.rules.evidence import MAX_COMMITS, evidence
from app.rules.model import CheckResult, Review
from tests.rules.factories import commit, files, hotfix_pr, policy


def test_the_evidence_names_the_commit_the_approver_and_the_counted_scan() -> None:
    snapshot = hotfix_pr(
        checks=(
            CheckResult("scan", "completed", "success", app_slug="github-actions"),
            CheckResult("trivy", "completed", "success", source="status"),
            CheckResult("lint", "completed", "success", app_slug="github-actions"),
        ),
        reviews=(
            Review("dave", "APPROVED", commit_id="f00dfeed"),
            Review("erin", "APPROVED", commit_id="0ld"),
        ),
        files=files(("services/catalog/handler.go", 3, 1), ("services/catalog/x.go", 2)),
    )

    found = evidence(snapshot, policy())

    assert found["commits"] == [
        {
            "sha": "a1b2c3d4e5",
            "author": "bob",
            "approvers": ["alice"],
            "cleanup_owners": ["bob"],
            "base_merge": False,
        }
    ]
    assert (found["body_approvers"], found["confirmations"]) == (["alice"], ["alice"])
    assert found["approving_reviews"] == ["dave"]  # erin approved an older head
    assert found["scan"] == [
        {
            "name": "scan",
            "app": "github-actions",
            "source": "check_run",
            "conclusion": "success",
            "counted": True,
        },
        {
            "name": "trivy",
            "app": None,
            "source": "status",
            "conclusion": "success",
            "counted": False,
        },
    ]
    assert found["scan_set_aside"] == "trivy is a commit status, which anyone who can push sets"
    assert found["fast_path"] == [
        {"name": "lint", "app": "github-actions", "conclusion": "success"}
    ]
    assert found["files"] == [
        {"path": "services/catalog/handler.go", "additions": 3, "deletions": 1},
        {"path": "services/catalog/x.go", "additions": 2, "deletions": 0},
    ]
    assert (found["changed_lines"], found["files_total"]) == (6, 2)
    assert (found["policy_sources"], found["policy_ignored"]) == ([], [])


def test_the_evidence_says_which_file_set_a_key_and_which_was_ignored() -> None:
    layered = load_policy(
        [
            PolicyLayer(DEFAULT_SOURCE, default_policy_text()),
            PolicyLayer("acme/.github:.github/hotfix-lane.yml", "rate_limit:\n  max_hotfixes: 2\n"),
            PolicyLayer(
                "acme/catalog:.github/hotfix-lane.yml",
                "rules:\n  diff-size:\n    max_lines: 30\n  scan:\n    allow_statuses: true\n",
                scope=Scope.REPOSITORY,
            ),
        ]
    )

    found = evidence(hotfix_pr(), layered)

    assert found["policy_sources"] == [
        {"key": "rate_limit.max_hotfixes", "source": "acme/.github:.github/hotfix-lane.yml"},
        {"key": "rules.diff-size.max_lines", "source": "acme/catalog:.github/hotfix-lane.yml"},
    ]
    assert found["policy_ignored"] == [
        {
            "source": "acme/catalog:.github/hotfix-lane.yml",
            "key": "rules.scan",
            "reason": "locked by the organisation",
        }
    ]


def test_a_long_history_is_shown_in_part() -> None:
    many = tuple(commit(sha=f"{n:040d}") for n in range(MAX_COMMITS + 5))

    found = evidence(hotfix_pr(commits=many), policy())

    assert (found["commits_shown"], found["commits_total"]) == (MAX_COMMITS, MAX_COMMITS + 5)
