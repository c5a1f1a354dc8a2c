"""API economy: the requests a job costs with warm caches, counted at the HTTP boundary.

Targets (issue 3): a hotfix pull request costs at most 4 reads plus its writes; an ordinary
one no reads and at most one write per new head sha; a redelivered event nothing.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.github.gateway import GitHubGateway
from app.github.metrics import RequestCount, count_requests
from app.lane.publisher import publish
from app.rules.model import Evaluation, Lane, PullRequestSnapshot, State
from tests.fakes.clock import START
from tests.fakes.github import INSTALLATION_ID, NUMBER, REPO, SHA, FakeGitHub, load, reply, snapshot
from tests.lane.samples import evaluation

PR_PATH = f"/repos/{REPO}/pulls/{NUMBER}"
NEXT_SHA = "5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c"


def reads(count: RequestCount) -> int:
    return sum(n for route, n in count.by_route.items() if route not in WRITES)


WRITES = {"status_write", "check_run_write", "token"}


ADOPTED_RUN = next(
    run["id"] for run in load("check_runs")["check_runs"] if run["name"] == "hotfix-lane"
)


def serve(fake_github: FakeGitHub) -> None:
    """Replies with validators, then 304s, as GitHub answers unchanged resources."""

    def conditional(path: str, fixture: str, etag: str) -> None:
        fake_github.get(path, reply(load(fixture), etag=etag), reply(status=304, etag=etag))

    fake_github.get(
        f"/repos/{REPO}/contents/.github/hotfix-lane.yml", reply(load("contents_policy"))
    )
    # The organisation's file is always read now (it is the floor under the repository's).
    fake_github.get(
        "/repos/acme/.github/contents/.github/hotfix-lane.yml", reply(load("not_found"), status=404)
    )
    conditional(f"{PR_PATH}/commits", "pull_commits_page1", '"commits"')
    conditional(f"{PR_PATH}/files", "pull_files", '"files"')
    conditional(f"/repos/{REPO}/commits/{SHA}/check-runs", "check_runs", '"runs"')
    conditional(f"/repos/{REPO}/commits/{SHA}/status", "combined_status", '"status"')
    conditional(f"{PR_PATH}/reviews", "reviews", '"reviews"')
    fake_github.get(
        "/orgs/acme/teams/sre-leads/memberships/alice", reply(load("team_membership_active"))
    )
    fake_github.get("/users/alice", reply(load("user")))
    fake_github.accept_status(SHA)
    fake_github.accept_status(NEXT_SHA)
    fake_github.accept_check_run()
    fake_github.accept_check_run_update()
    # check_runs.json already lists a hotfix-lane run (created before a crash): adopted.
    fake_github.accept_check_run_update(ADOPTED_RUN)


async def handle_hotfix(
    gateway: GitHubGateway, engine: Engine, pr: PullRequestSnapshot, result: Evaluation
) -> RequestCount:
    """What the pull_request handler asks of the gateway for a hotfix pull request."""
    with count_requests() as count:
        await gateway.policy_layers(INSTALLATION_ID, REPO, "main")
        await gateway.enrich(INSTALLATION_ID, pr)
        await gateway.reviews(INSTALLATION_ID, REPO, NUMBER)
        await gateway.team_members(INSTALLATION_ID, "acme", [("sre-leads", "alice")])
        await gateway.user(INSTALLATION_ID, "alice")
        await publish(
            gateway,
            engine=engine,
            installation_id=INSTALLATION_ID,
            repo=REPO,
            head_sha=pr.head_sha,
            evaluation=result,
            now=START,
        )
    return count


async def handle_ordinary(
    gateway: GitHubGateway, engine: Engine, head_sha: str, result: Evaluation
) -> RequestCount:
    """An ordinary pull request: classified from the payload and the policy, status only."""
    with count_requests() as count:
        await gateway.policy_layers(INSTALLATION_ID, REPO, "main")
        await publish(
            gateway,
            engine=engine,
            installation_id=INSTALLATION_ID,
            repo=REPO,
            head_sha=head_sha,
            evaluation=result,
            now=START,
        )
    return count


async def test_a_hotfix_pull_request_costs_at_most_four_reads_with_warm_caches(
    gateway: GitHubGateway, memory_engine: Engine, fake_github: FakeGitHub
) -> None:
    serve(fake_github)
    cold = await handle_hotfix(gateway, memory_engine, snapshot(), evaluation(State.PENDING))
    # One read more than before the approver's profile was read: GET /users/alice, for the
    # e-mails a "Co-authored-by:" trailer naming the approver is recognised by (cached after).
    # And one more since the organisation's policy file is always read, as the floor under the
    # repository's (cached with it, so warm evaluations do not pay it).
    assert (cold.total, reads(cold)) == (12, 9)

    # A check finished: re-evaluate at the same head, and the result changed.
    warm = await handle_hotfix(gateway, memory_engine, snapshot(), evaluation(State.SUCCESS))

    assert reads(warm) == 3
    assert warm.by_route == {
        "check_runs": 1,
        "combined_status": 1,
        "pull_reviews": 1,
        "status_write": 1,
        "check_run_write": 1,
    }


async def test_an_ordinary_pull_request_costs_no_reads_and_one_write_per_head(
    gateway: GitHubGateway, memory_engine: Engine, fake_github: FakeGitHub
) -> None:
    serve(fake_github)
    await gateway.policy_layers(INSTALLATION_ID, REPO, "main")  # warm: policy cached
    result = evaluation(State.SUCCESS, lane=Lane.ORDINARY)

    first = await handle_ordinary(gateway, memory_engine, SHA, result)
    pushed = await handle_ordinary(gateway, memory_engine, NEXT_SHA, result)

    assert first.by_route == {"status_write": 1}
    assert pushed.by_route == {"status_write": 1}


async def test_a_redelivered_event_costs_nothing(
    gateway: GitHubGateway, memory_engine: Engine, fake_github: FakeGitHub
) -> None:
    serve(fake_github)
    result = evaluation(State.SUCCESS, lane=Lane.ORDINARY)
    await handle_ordinary(gateway, memory_engine, SHA, result)

    redelivered = await handle_ordinary(gateway, memory_engine, SHA, result)

    assert redelivered.total == 0
