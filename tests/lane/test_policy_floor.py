"""The organisation's policy file is the floor: a repository's file cannot leave the lane.

Through POST /api/github/webhooks, with both policy files served by the fake GitHub.
"""

from __future__ import annotations

from tests.fakes.github import REPO
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
