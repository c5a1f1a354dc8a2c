"""The organisation's policy file is the floor: a repository's file cannot leave the lane.

Through POST /api/github/webhooks, with both policy files served by the fake GitHub.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import load_fixture
from tests.fakes.github import REPO
from tests.fakes.slack_server import FakeSlackServer
from tests.harness import AUDIT_CHANNEL
from tests.lane.conftest import only
from tests.lane.scenario import Lane, Repo, pull_request

ORDINARY = "Not in the hotfix lane: no emergency-change rules apply."
# Every marker renamed: without the floor, the fixture's hotfix PR would be ordinary (green).
RENAMED_MARKERS = (
    "lane:\n  label: emergency\n  branch_prefix: emergency/\n  title_prefix: 'EMERGENCY:'\n"
)


async def test_a_repository_file_renaming_the_lane_does_not_make_a_hotfix_ordinary(
    lane: Lane, repo: Repo
) -> None:
    repo.repo_policy = RENAMED_MARKERS

    await lane.deliver("pull_request", pull_request())

    status = only(lane.statuses)
    assert status["description"] != ORDINARY
    assert status["description"] == "Hotfix lane: all 13 rules pass."
    summary = only(lane.sent("POST", "/check-runs"))["output"]["summary"]
    assert (
        f"Ignored in {REPO}:.github/hotfix-lane.yml: lane (locked by the organisation)." in summary
    )


async def test_a_loosening_limit_is_ignored_and_named_on_the_check_run(
    lane: Lane, repo: Repo
) -> None:
    repo.org_policy = "rules:\n  diff-size:\n    max_lines: 1\n"
    repo.repo_policy = "rules:\n  diff-size:\n    max_lines: 200\n"

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == "failure"
    summary = only(lane.sent("POST", "/check-runs"))["output"]["summary"]
    assert "rules.diff-size.max_lines (would loosen: 200 > 1)" in summary


async def test_a_push_that_changes_the_policy_is_announced_with_what_changed(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    push = load_fixture("push")
    repo.files_at[(push["before"], ".github/hotfix-lane.yml")] = (
        "rules:\n  diff-size:\n    max_lines: 40\n"
    )
    repo.repo_policy = "rules:\n  diff-size:\n    max_lines: 30\n  scan:\n    checks: [lint]\n"

    await lane.deliver("push", push)

    (message,) = [
        m
        for m in slack_server.messages_in(AUDIT_CHANNEL)
        if m.body["text"].startswith("Policy changed")
    ]
    assert message.body["text"] == (
        "Policy changed: @carol changed acme/bookstore-platform:.github/hotfix-lane.yml: "
        "rules.diff-size.max_lines 40 → 30"
    )
    assert fields_of(message)["Ignored"] == "rules.scan (locked by the organisation)"


async def test_a_push_that_breaks_the_policy_file_is_announced(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.repo_policy = "rules: [not, a, mapping]\n"

    await lane.deliver("push", load_fixture("push"))

    (message,) = [
        m
        for m in slack_server.messages_in(AUDIT_CHANNEL)
        if m.body["text"].startswith("Policy changed")
    ]
    assert message.body["text"].startswith(
        "Policy changed: @carol pushed acme/bookstore-platform:.github/hotfix-lane.yml and it "
        "no longer loads: "
    )


def fields_of(message: Any) -> dict[str, str]:
    """The labelled fields of a posted Block Kit message, as ``{label: value}``."""
    blocks = message.body["blocks"]
    found: dict[str, str] = {}
    for block in json.loads(blocks) if isinstance(blocks, str) else blocks:
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("*\n")
            found[label.strip("*")] = value
    return found


async def test_a_push_to_the_organisations_file_is_announced(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    push = load_fixture("push")
    push["repository"].update(name=".github", full_name="acme/.github")
    repo.files_at[(push["before"], ".github/hotfix-lane.yml")] = (
        "audit:\n  approver_merges: false\n"
    )
    repo.org_policy = "rate_limit:\n  max_hotfixes: 2\n"

    await lane.deliver("push", push)

    (message,) = [
        m
        for m in slack_server.messages_in(AUDIT_CHANNEL)
        if m.body["text"].startswith("Policy changed")
    ]
    assert message.body["text"] == (
        "Policy changed: @carol changed acme/.github:.github/hotfix-lane.yml: "
        "rate_limit.max_hotfixes 3 → 2"
    )
