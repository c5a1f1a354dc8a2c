"""merge_group: the queue's group gets our status, green only when each of its PRs was."""

from __future__ import annotations

import json
from typing import Any

from tests.lane.scenario import Lane, Repo, pull_request

BASE = "ba5e" * 10
GROUP = "9f0c" * 10
OTHER = "0be7" * 10


def merge_group(newest: int) -> dict[str, Any]:
    opened = pull_request()
    return {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": GROUP,
            "head_ref": f"refs/heads/gh-readonly-queue/main/pr-{newest}-{BASE}",
            "base_sha": BASE,
            "base_ref": "refs/heads/main",
            "head_commit": {"id": GROUP, "message": "Merge pull request #4321"},
        },
        "repository": opened["repository"],
        "organization": opened["organization"],
        "installation": opened["installation"],
        "sender": opened["sender"],
    }


def group_statuses(lane: Lane) -> list[dict[str, Any]]:
    """The statuses sent for the group's head commit."""
    return [
        json.loads(call.request.content)
        for call in lane.github.router.calls
        if call.request.method == "POST" and call.request.url.path.endswith(f"/statuses/{GROUP}")
    ]


async def test_a_group_of_green_pull_requests_is_green(lane: Lane, repo: Repo) -> None:
    await lane.deliver("pull_request", pull_request())
    repo.compared[BASE, GROUP] = ["HOTFIX: the fix (#4321)"]

    await lane.deliver("merge_group", merge_group(4321))

    assert group_statuses(lane) == [
        {
            "state": "success",
            "context": "hotfix-lane/policy",
            "description": "Every pull request in the group was green: #4321",
        }
    ]


async def test_a_group_holding_a_red_or_unknown_pull_request_fails_naming_them(
    lane: Lane, repo: Repo
) -> None:
    # #4322 fails its rules (no scan); #4400 was never evaluated.
    await lane.deliver("pull_request", pull_request())
    repo.check_runs = [c for c in repo.check_runs if c["name"] != "scan"]
    second = pull_request(number=4322)
    second["pull_request"]["head"]["sha"] = OTHER
    await lane.deliver("pull_request", second)
    repo.compared[BASE, GROUP] = [
        "Merge pull request #4321 from acme/hotfix/INC-2026-05-20-001",
        "HOTFIX: the second (#4322)",
        "Add pagination (#4400)",
    ]

    await lane.deliver("merge_group", merge_group(4400))

    [status] = group_statuses(lane)
    assert (status["state"], status["description"]) == (
        "failure",
        "Not green at their heads: #4322 (pending), #4400 (not evaluated)",
    )
