"""A hotfix cannot talk its way to green: what someone trying to get around the rules does,
and what they get. Through webhooks, GitHub faked at the HTTP layer, Slack on 127.0.0.1."""

from __future__ import annotations

import json

from tests.conftest import load_fixture
from tests.fakes.github import FakeGitHub
from tests.fakes.slack_server import FakeSlackServer
from tests.harness import AUDIT_CHANNEL
from tests.lane.conftest import only
from tests.lane.scenario import Lane, Repo, check_run_entry, file_entry, pull_request

FAST_PATH = ("lint", "unit-changed-package", "build-sign-push")
WAITING = (
    "scan: Waiting for a security scan (scan, trivy or snyk) on the head commit; "
    "the fast-path never skips it."
)


def summary(lane: Lane) -> str:
    return str(lane.check_runs[-1]["output"]["summary"])


async def test_a_status_whose_name_contains_scan_is_not_the_scan(lane: Lane, repo: Repo) -> None:
    repo.check_runs = [check_run_entry(name) for name in FAST_PATH]
    repo.statuses = [{"context": "docs / skip-scan", "state": "success"}]

    await lane.deliver("pull_request", pull_request())

    status = only(lane.statuses)
    assert (status["state"], status["description"]) == ("pending", WAITING)


async def test_a_scan_status_set_by_hand_does_not_count(lane: Lane, repo: Repo) -> None:
    repo.check_runs = [check_run_entry(name) for name in FAST_PATH]
    repo.statuses = [{"context": "scan", "state": "success"}]

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == "pending"
    assert (
        "Waiting for a scan that counts: scan is a commit status, which anyone who can push "
        "sets." in summary(lane)
    )


async def test_a_pr_that_adds_a_workflow_cannot_vouch_for_its_own_scan(
    lane: Lane, repo: Repo
) -> None:
    repo.files.append(file_entry(".github/workflows/scan.yml", 3))

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == "pending"
    assert (
        "Waiting for a scan that counts: scan comes from a workflow, and this PR changes "
        ".github/workflows/scan.yml: it could have written its own scan." in summary(lane)
    )


async def test_a_check_finishing_after_an_admin_merge_does_not_make_it_compliant(
    lane: Lane, repo: Repo, fake_github: FakeGitHub, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    repo.check_runs = [check_run_entry(name) for name in FAST_PATH]
    await lane.deliver("pull_request", pull_request())
    assert only(lane.statuses)["state"] == "pending"
    # Merged by an admin while the scan ran; the scan's delivery is handled before the merge's.
    closed = load_fixture("pull_request.closed")
    closed["pull_request"]["merged_by"]["login"] = "carol"
    fake_github.pulls[4321] = closed["pull_request"]
    repo.check_runs.append(check_run_entry("scan"))

    await lane.deliver("check_run", load_fixture("check_run.completed"))
    assert len(lane.statuses) == 1  # the merged PR is not evaluated or published again
    await lane.deliver("pull_request", closed)

    row = only(lane.ledger)
    assert row.bypassed and row.policy_state == "pending"
    assert json.loads(row.bypass_reasons)[0] == "hotfix-lane/policy was pending"
    assert (
        slack_server.messages_in(AUDIT_CHANNEL)[0].body["text"].startswith("@carol merged PR #4321")
    )


async def test_a_check_run_named_like_ours_by_another_app_is_a_security_event(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.check_runs.append(check_run_entry("hotfix-lane"))  # created by github-actions

    await lane.deliver("pull_request", pull_request())
    their_run = load_fixture("check_run.completed")
    their_run["check_run"]["name"] = "hotfix-lane"
    await lane.deliver("check_run", their_run)

    theirs = repo.check_runs[-1]["id"]
    assert not [r for r in lane.requests("PATCH") if r.endswith(f"/check-runs/{theirs}")]
    assert len(lane.sent("POST", "/check-runs")) == 1  # ours, not theirs adopted
    (message,) = [
        m for m in slack_server.messages_in(AUDIT_CHANNEL) if "SECURITY EVENT" in m.body["text"]
    ]
    assert message.body["text"] == (
        "SECURITY EVENT: A hotfix-lane check run on acme/bookstore-platform@0f1e2d3 was created "
        "by github-actions, not the hotfix-lane app; branch protection must require the "
        "hotfix-lane check run from this App"
    )
