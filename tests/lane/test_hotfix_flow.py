"""Pull requests through POST /api/github/webhooks, with GitHub faked by respx.

Each test drives the real app: intake stores the delivery, the worker runs it, the rules
decide, and the assertions read the exact requests hotfix-lane sent to GitHub.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from app.store.models import EvaluationRecord, Job, TrackedPullRequest
from tests.conftest import load_fixture
from tests.fakes.github import INSTALLATION_ID, FakeGitHub, reply
from tests.fakes.slack_server import FakeSlackServer
from tests.harness import AUDIT_CHANNEL
from tests.lane.conftest import only
from tests.lane.scenario import (
    COMPLIANT_MESSAGE,
    Lane,
    Repo,
    check_run_entry,
    commit_entry,
    file_entry,
    pull_request,
)

BODY: str = load_fixture("pull_request.opened")["pull_request"]["body"]
SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
GREEN = {
    "state": "success",
    "context": "hotfix-lane/policy",
    "description": "Hotfix lane: all 13 rules pass.",
}


def failing_rules(row: EvaluationRecord) -> list[str]:
    return [v["rule"] for v in json.loads(row.verdicts) if v["outcome"] == "fail"]


async def test_a_compliant_hotfix_pr_goes_green(lane: Lane) -> None:
    await lane.deliver("pull_request", pull_request())

    assert lane.statuses == [GREEN]
    run = only(lane.sent("POST", "/check-runs"))
    assert (run["name"], run["head_sha"], run["status"], run["conclusion"]) == (
        "hotfix-lane",
        SHA,
        "completed",
        "success",
    )
    assert run["output"]["title"] == "All 13 rules pass"
    assert (
        "| `scan` | ✅ pass | Scan passed on the head commit (scan). |" in run["output"]["summary"]
    )


def _payload(**changes: Any) -> Callable[[dict[str, Any], Repo], None]:
    def mutate(payload: dict[str, Any], _repo: Repo) -> None:
        payload["pull_request"].update(changes)

    return mutate


def _commit(message: str) -> Callable[[dict[str, Any], Repo], None]:
    def mutate(_payload: dict[str, Any], repo: Repo) -> None:
        repo.commits = [commit_entry(message)]

    return mutate


def _both(
    *mutations: Callable[[dict[str, Any], Repo], None],
) -> Callable[[dict[str, Any], Repo], None]:
    def mutate(payload: dict[str, Any], repo: Repo) -> None:
        for mutation in mutations:
            mutation(payload, repo)

    return mutate


def _no_members(_payload: dict[str, Any], repo: Repo) -> None:
    repo.teams = {}


def _big_diff(_payload: dict[str, Any], repo: Repo) -> None:
    repo.files = [file_entry("services/catalog/handler.go", 40, 10)]


def _check(name: str, conclusion: str) -> Callable[[dict[str, Any], Repo], None]:
    def mutate(_payload: dict[str, Any], repo: Repo) -> None:
        repo.check_runs = [
            check_run_entry(n, conclusion=conclusion if n == name else "success")
            for n in ("scan", "lint", "unit-changed-package", "build-sign-push")
        ]

    return mutate


def _two_services(_payload: dict[str, Any], repo: Repo) -> None:
    repo.files = [file_entry("services/catalog/a.go", 2), file_entry("deploy/catalog.yaml", 1)]
    repo.repo_policy = "rules:\n  single-concern:\n    blocking: true\n"


@pytest.mark.parametrize(
    ("rule", "mutate"),
    [
        pytest.param("markers", _payload(labels=[]), id="markers fails without the hotfix label"),
        pytest.param(
            "incident-id",
            _commit(COMPLIANT_MESSAGE.replace("INC-2026-05-20-001\n", "")),
            id="incident-id fails when a commit lacks the incident id",
        ),
        pytest.param(
            "approver-named",
            _commit(COMPLIANT_MESSAGE.replace("approver: @alice\n", "")),
            id="approver-named fails when no commit names the approver",
        ),
        pytest.param(
            "approver-authorized",
            _no_members,
            id="approver-authorized fails when the approver is in no approver team",
        ),
        pytest.param(
            "cleanup-owner",
            _both(
                _commit(COMPLIANT_MESSAGE.split("\ncleanup:")[0]),
                _payload(body=BODY.replace("Cleanup-owner: @bob", "")),
            ),
            id="cleanup-owner fails when nobody owns the cleanup",
        ),
        pytest.param(
            "preflight",
            _payload(body=BODY.replace("- [x]", "- [ ]")),
            id="preflight fails when flag and rollback were not ruled out",
        ),
        pytest.param("diff-size", _big_diff, id="diff-size fails at 50 changed lines"),
        pytest.param(
            "single-concern",
            _two_services,
            id="single-concern fails across two top-level folders when blocking",
        ),
        pytest.param("scan", _check("scan", "failure"), id="scan fails when the scan failed"),
        pytest.param("fast-path", _check("lint", "failure"), id="fast-path fails when lint failed"),
    ],
)
async def test_each_rule_failing_alone_fails_the_pr_naming_that_rule(
    lane: Lane, repo: Repo, rule: str, mutate: Callable[[dict[str, Any], Repo], None]
) -> None:
    payload = pull_request()
    mutate(payload, repo)

    await lane.deliver("pull_request", payload)

    status = only(lane.statuses)
    assert status["state"] == "failure"
    assert status["description"].startswith(f"{rule}: ")
    assert len(status["description"]) <= 140
    assert failing_rules(only(lane.evaluations)) == [rule]
    run = only(lane.sent("POST", "/check-runs"))
    assert run["conclusion"] == "failure"
    assert f"| `{rule}` | ❌ fail |" in run["output"]["summary"]


@pytest.mark.parametrize(
    ("additions", "deletions", "state"),
    [
        pytest.param(40, 9, "success", id="49 changed lines pass"),
        pytest.param(40, 10, "failure", id="50 changed lines fail"),
    ],
)
async def test_the_line_limit_is_under_50(
    lane: Lane, repo: Repo, additions: int, deletions: int, state: str
) -> None:
    repo.files = [file_entry("services/catalog/handler.go", additions, deletions)]

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == state


async def test_a_large_diff_is_annotated_on_the_file(lane: Lane, repo: Repo) -> None:
    repo.files = [file_entry("services/catalog/handler.go", 60, 5)]

    await lane.deliver("pull_request", pull_request())

    run = only(lane.sent("POST", "/check-runs"))
    annotation = only(run["output"]["annotations"])
    assert (annotation["path"], annotation["annotation_level"]) == (
        "services/catalog/handler.go",
        "failure",
    )


async def test_a_missing_scan_is_pending_until_the_scan_check_completes(
    lane: Lane, repo: Repo
) -> None:
    repo.check_runs = [
        check_run_entry(n) for n in ("lint", "unit-changed-package", "build-sign-push")
    ]
    await lane.deliver("pull_request", pull_request())
    pending = only(lane.statuses)
    assert pending["state"] == "pending"
    assert pending["description"].startswith("scan: ")
    assert only(lane.sent("POST", "/check-runs"))["status"] == "in_progress"

    repo.check_runs.append(check_run_entry("scan"))
    await lane.deliver("check_run", load_fixture("check_run.completed"))

    assert lane.statuses[-1] == GREEN
    update = lane.sent("PATCH", "/check-runs/")[-1]
    assert (update["status"], update["conclusion"]) == ("completed", "success")


async def test_a_running_scan_is_pending(lane: Lane, repo: Repo) -> None:
    repo.check_runs[0] = check_run_entry("scan", status="in_progress", conclusion=None)

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == "pending"


async def test_an_ordinary_pr_gets_one_status_and_no_check_run(lane: Lane) -> None:
    payload = load_fixture("pull_request.opened.ordinary")
    sha = payload["pull_request"]["head"]["sha"]

    await lane.deliver("pull_request", payload)

    assert lane.statuses == [
        {
            "state": "success",
            "context": "hotfix-lane/policy",
            "description": "Not in the hotfix lane: no emergency-change rules apply.",
        }
    ]
    assert lane.sent("POST", "/check-runs") == []
    # Cold caches: the token and the policy files; nothing about the PR itself.
    assert lane.requests() == [
        "POST /app/installations/4242/access_tokens",
        "GET /repos/acme/bookstore-platform/contents/.github/hotfix-lane.yml",
        "GET /repos/acme/.github/contents/.github/hotfix-lane.yml",
        f"POST /repos/acme/bookstore-platform/statuses/{sha}",
    ]


async def test_a_repository_policy_with_a_lower_line_limit_is_honoured(
    lane: Lane, repo: Repo
) -> None:
    repo.repo_policy = "rules:\n  diff-size:\n    max_lines: 4\n"  # the PR changes 4 lines

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses) == {
        "state": "failure",
        "context": "hotfix-lane/policy",
        "description": "diff-size: 4 changed lines; a hotfix must stay under 4. Ship the "
        "smallest fix and move the rest to the cleanup PR.",
    }


async def test_the_organisation_policy_applies_when_the_repository_has_none(
    lane: Lane, repo: Repo
) -> None:
    repo.org_policy = "rules:\n  diff-size:\n    max_lines: 3\n"

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["description"].startswith("diff-size: 4 changed lines")


async def test_an_invalid_policy_file_is_an_error_naming_file_and_key(
    lane: Lane, repo: Repo
) -> None:
    repo.repo_policy = "rules:\n  diff-size:\n    max_lines: fifty\n"

    await lane.deliver("pull_request", pull_request())

    status = only(lane.statuses)
    assert status["state"] == "error"
    assert status["description"].startswith(
        "Cannot evaluate: acme/bookstore-platform:.github/hotfix-lane.yml: "
        "rules.diff-size.max_lines: "
    )
    assert only(lane.sent("POST", "/check-runs"))["conclusion"] == "failure"


async def test_a_push_touching_the_policy_file_changes_the_next_evaluation(
    lane: Lane, repo: Repo
) -> None:
    await lane.deliver("pull_request", pull_request())
    repo.repo_policy = "rules:\n  diff-size:\n    max_lines: 4\n"

    await lane.deliver("pull_request", pull_request("pull_request.edited"))
    assert [s["state"] for s in lane.statuses] == ["success"]  # cached policy: no change

    await lane.deliver("push", load_fixture("push"))
    await lane.deliver("pull_request", pull_request("pull_request.edited"))
    assert [s["state"] for s in lane.statuses] == ["success", "failure"]


async def test_github_down_is_an_error_and_the_job_is_retried(lane: Lane, repo: Repo) -> None:
    repo.down = True

    await lane.deliver("pull_request", pull_request(), delivery="down-1")

    status = only(lane.statuses)
    assert status["state"] == "error"
    assert status["description"].startswith("Cannot evaluate: GitHub API unavailable")
    with Session(lane.services.engine) as session:
        job = session.exec(select(Job).where(Job.key == "delivery:down-1")).one()
    assert (job.status, job.attempts) == ("queued", 1)
    assert job.last_error is not None and job.last_error.startswith("GitHubUnavailable")

    repo.down = False
    job.run_at = 0  # due now rather than after the backoff
    with Session(lane.services.engine) as session:
        session.add(job)
        session.commit()
    await lane.worker.drain()
    assert lane.statuses[-1] == GREEN


async def test_a_spoofed_status_is_replaced_by_ours(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams = {}
    await lane.deliver("pull_request", pull_request())
    ours = only(lane.statuses)
    assert ours["state"] == "failure"

    spoof = load_fixture("status")
    spoof.update(
        context="hotfix-lane/policy", state="success", sha=SHA, description="looks good to me"
    )
    spoof["sender"].update(login="mallory", type="User")
    await lane.deliver("status", spoof)

    assert lane.statuses == [ours, ours]
    message = only(slack_server.messages_in(AUDIT_CHANNEL))
    assert message.body["text"] == (
        "SECURITY EVENT: The hotfix-lane/policy status on acme/bookstore-platform@0f1e2d3 was "
        "set to success by @mallory; only the hotfix-lane app may set it"
    )


async def test_our_own_status_coming_back_changes_nothing(lane: Lane) -> None:
    await lane.deliver("pull_request", pull_request())
    lane.reset_calls()

    echo = load_fixture("status")
    echo.update(context="hotfix-lane/policy", state="success", sha=SHA)
    echo["sender"].update(login="hotfix-lane[bot]", type="Bot")
    await lane.deliver("status", echo)

    assert lane.requests() == ["GET /app"]


async def test_a_stale_delivery_changes_nothing(lane: Lane) -> None:
    newer = pull_request("pull_request.synchronize", updated_at="2026-05-20T10:00:00Z")
    older = pull_request("pull_request.opened", updated_at="2026-05-20T09:00:00Z")
    older["pull_request"]["head"]["sha"] = "1" * 40

    await lane.deliver("pull_request", newer)
    await lane.deliver("pull_request", older)

    assert [s["state"] for s in lane.statuses] == ["success"]
    assert len(lane.evaluations) == 1


async def test_two_copies_of_one_second_are_settled_by_asking_github(lane: Lane) -> None:
    """GitHub's updated_at has a resolution of a second: a copy as new as the stored one but
    at another head cannot be told apart, so GitHub's current copy is read and evaluated."""
    first = pull_request("pull_request.opened", updated_at="2026-05-20T09:00:00Z")
    other = pull_request("pull_request.synchronize", updated_at="2026-05-20T09:00:00Z")
    other["pull_request"]["head"]["sha"] = "1" * 40
    await lane.deliver("pull_request", first)
    lane.reset_calls()

    await lane.deliver("pull_request", other)

    assert lane.requests("GET")[0] == "GET /repos/acme/bookstore-platform/pulls/4321"
    assert [row.head_sha for row in lane.evaluations] == [SHA, SHA]
    assert {status["state"] for status in lane.statuses} <= {"success"}
    assert not any("1" * 40 in request for request in lane.requests())
    [tracked] = lane.rows(TrackedPullRequest)
    assert (tracked.head_sha, tracked.installation_id) == (SHA, INSTALLATION_ID)


async def test_a_review_re_evaluates_the_pr(lane: Lane) -> None:
    await lane.deliver("pull_request", pull_request())

    await lane.deliver("pull_request_review", load_fixture("pull_request_review.submitted"))

    assert [row.state for row in lane.evaluations] == ["success", "success"]
    assert lane.statuses == [GREEN]  # nothing changed, nothing re-sent


async def test_a_redelivered_event_costs_no_request(lane: Lane) -> None:
    await lane.deliver("pull_request", pull_request(), delivery="same")
    lane.reset_calls()

    await lane.deliver("pull_request", pull_request(), delivery="same")

    assert lane.requests() == []


async def test_a_hotfix_pr_at_a_new_head_costs_four_reads_with_warm_caches(lane: Lane) -> None:
    await lane.deliver("pull_request", pull_request())
    lane.reset_calls()
    pushed = pull_request("pull_request.synchronize", updated_at="2026-05-20T10:00:00Z")
    pushed["pull_request"]["head"]["sha"] = "2" * 40

    await lane.deliver("pull_request", pushed)

    assert lane.requests("GET") == [
        "GET /repos/acme/bookstore-platform/pulls/4321/commits",
        "GET /repos/acme/bookstore-platform/pulls/4321/files",
        f"GET /repos/acme/bookstore-platform/commits/{'2' * 40}/check-runs",
        f"GET /repos/acme/bookstore-platform/commits/{'2' * 40}/status",
    ]


async def test_an_ordinary_pr_costs_no_read_and_one_write_per_new_head(lane: Lane) -> None:
    payload = load_fixture("pull_request.opened.ordinary")
    await lane.deliver("pull_request", payload)
    lane.reset_calls()

    await lane.deliver(
        "pull_request", load_fixture("pull_request.opened.ordinary") | {"action": "edited"}
    )
    assert lane.requests() == []

    payload["pull_request"]["head"]["sha"] = "3" * 40
    payload["pull_request"]["updated_at"] = "2026-05-21T10:00:00Z"
    await lane.deliver("pull_request", payload)
    assert lane.requests() == [f"POST /repos/acme/bookstore-platform/statuses/{'3' * 40}"]


async def test_re_running_our_check_publishes_afresh(lane: Lane) -> None:
    await lane.deliver("pull_request", pull_request())
    rerun = load_fixture("check_run.completed")
    rerun["action"] = "rerequested"
    rerun["check_run"]["name"] = "hotfix-lane"

    await lane.deliver("check_run", rerun)

    assert lane.statuses == [GREEN, GREEN]
    assert len(lane.check_runs) == 2


async def test_two_pushes_in_the_same_second_ask_github_which_head_is_current(
    lane: Lane, fake_github: FakeGitHub
) -> None:
    second = "5" * 40
    current = load_fixture("pull_request.synchronize")["pull_request"]
    current["head"]["sha"] = second
    fake_github.get("/repos/acme/bookstore-platform/pulls/4321", reply(current))
    first_push = pull_request("pull_request.synchronize")
    second_push = pull_request("pull_request.synchronize")
    second_push["pull_request"]["head"]["sha"] = second

    await lane.deliver("pull_request", second_push)
    await lane.deliver("pull_request", first_push)  # same updated_at, older head

    assert [s["state"] for s in lane.sent("POST", f"/statuses/{second}")] == ["success"]
    assert lane.sent("POST", f"/statuses/{SHA}") == []
