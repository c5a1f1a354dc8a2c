"""Request counting per job, and the Prometheus metrics behind it."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from app.github.gateway import GitHubGateway
from app.github.metrics import count_requests, route_class
from tests.fakes.github import INSTALLATION_ID, NUMBER, REPO, FakeGitHub, load, reply


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/app/installations/4242/access_tokens", "token"),
        ("/api/v3/repos/acme/web/pulls/7/files", "pull_files"),
        ("/repositories/123/pulls/7/commits", "pull_commits"),
        ("/repos/acme/web/commits/abc/check-runs", "check_runs"),
        ("/repos/acme/web/check-runs/99", "check_run_write"),
        ("/repos/acme/web/statuses/abc", "status_write"),
        ("/orgs/acme/teams/sre-leads/memberships/alice", "team_membership"),
        ("/repos/acme/.github/contents/.github/hotfix-lane.yml", "contents"),
        ("/rate_limit", "other"),
    ],
)
def test_routes_fall_in_a_few_classes(path: str, expected: str) -> None:
    assert route_class(path) == expected


async def test_every_request_of_a_job_is_counted(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(f"/repos/{REPO}/pulls/{NUMBER}", reply(load("pull_request")))

    def total(route: str) -> float:
        value = REGISTRY.get_sample_value(
            "hotfix_lane_github_requests_total", {"method": "GET", "route_class": route}
        )
        return value or 0.0

    observed_before = REGISTRY.get_sample_value("hotfix_lane_github_requests_per_job_count") or 0
    before = total("pull")
    with count_requests() as count:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert count.total == 3
    assert count.by_route == {"token": 1, "pull": 2}
    assert total("pull") == before + 2
    assert REGISTRY.get_sample_value("hotfix_lane_github_requests_per_job_count") == (
        observed_before + 1
    )
