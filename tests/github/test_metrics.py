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


def test_answers_are_counted_by_route_and_status_and_the_rate_limit_kept_per_installation() -> None:
    from prometheus_client import REGISTRY

    from app.github.metrics import record_rate_limit, record_response

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = sample("hotfix_lane_github_responses_total", route_class="pull", status="404")
    record_response("/repos/acme/api/pulls/7", 404)
    assert (
        sample("hotfix_lane_github_responses_total", route_class="pull", status="404") == before + 1
    )

    record_rate_limit(4242, "4987")
    record_rate_limit(None, "4999")
    record_rate_limit(4242, None)  # an answer without the header leaves the last value
    assert sample("hotfix_lane_github_rate_limit_remaining", installation="4242") == 4987
    assert sample("hotfix_lane_github_rate_limit_remaining", installation="app") == 4999
