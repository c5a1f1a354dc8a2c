"""mode: report, for a rollout: verdicts are published without blocking, and say so."""

from __future__ import annotations

from tests.fakes.slack_server import FakeSlackServer
from tests.harness import AUDIT_CHANNEL
from tests.lane.scenario import Lane, Repo, pull_request


def without_scan(repo: Repo) -> None:
    repo.check_runs = [run for run in repo.check_runs if run["name"] != "scan"]


async def test_an_organisation_in_report_mode_sees_the_verdict_without_a_block(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.org_policy = "mode: report\n"
    repo.teams["platform-admins"] = {"carol"}
    without_scan(repo)

    await lane.deliver("pull_request", pull_request())

    status = lane.statuses[-1]
    assert status["state"] == "success"
    assert status["description"].startswith("Report only: pending: scan: Waiting for a")
    run = lane.check_runs[-1]
    assert (run["status"], run["conclusion"]) == ("completed", "neutral")
    assert run["output"]["title"] == "Report only: 1 rule pending: scan"
    assert "report mode (`mode: report`)" in run["output"]["summary"]

    await lane.deliver("pull_request", pull_request("pull_request.closed"))

    texts = [m.body["text"] for m in slack_server.messages_in(AUDIT_CHANNEL)]
    assert texts and all(text.startswith("[REPORT ONLY] ") for text in texts), texts


async def test_a_repository_cannot_switch_itself_to_report_mode(lane: Lane, repo: Repo) -> None:
    repo.repo_policy = "mode: report\n"
    without_scan(repo)

    await lane.deliver("pull_request", pull_request())

    status = lane.statuses[-1]
    assert status["state"] == "pending"
    assert "mode (locked by the organisation)" in lane.check_runs[-1]["output"]["summary"]
