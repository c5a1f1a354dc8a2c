"""The reconcile sweep: open lane PRs compared with GitHub, for what no webhook told us.

GitHub is the shared respx fake: a PR "moves" by changing what its REST API answers, with no
delivery, as when a ``synchronize`` or ``closed`` delivery was lost for good.
"""

from __future__ import annotations

import copy
import json

import pytest

from app.cli import main
from app.jobs.recurring import seed
from app.lane.reconcile import CATCH_UP_JOB, RECONCILE, RECONCILE_JOB, sweep
from app.store.models import EvaluationRecord, TrackedPullRequest
from tests.fakes.github import NUMBER, REPO, SHA, FakeGitHub, reply
from tests.lane.conftest import only
from tests.lane.scenario import Lane, Repo, pull_request

NEW_HEAD = "1234567890abcdef1234567890abcdef12345678"
PASSED = "Hotfix lane: all 13 rules pass."


def pushed_without_delivery(lane: Lane, number: int = NUMBER, head: str = NEW_HEAD) -> None:
    """A push GitHub never told us about: only its REST API shows the new head."""
    pr = copy.deepcopy(lane.github.pulls[number])
    pr["head"]["sha"] = head
    pr["updated_at"] = "2026-05-20T09:45:00Z"
    lane.github.pulls[number] = pr
    lane.confirm(number, head)  # the approver confirmed the new head, as the runbook asks


def statuses_at(lane: Lane, sha: str) -> list[tuple[str, str]]:
    return [
        (json.loads(c.request.content)["state"], json.loads(c.request.content)["description"])
        for c in lane.github.router.calls
        if c.request.method == "POST" and c.request.url.path.endswith(f"/statuses/{sha}")
    ]


async def run_sweep_job(lane: Lane) -> None:
    """The recurring sweep at its next slot, and the catch-up jobs it queued."""
    now = lane.clock.now()
    seed(lane.services.engine, [RECONCILE], now=now)
    lane.clock.advance(minutes=30)
    await lane.run_due()


def catch_ups(lane: Lane) -> list[tuple[str, str]]:
    return [(job.key, job.status) for job in lane.jobs(CATCH_UP_JOB)]


async def test_a_head_we_never_evaluated_is_evaluated_and_published(lane: Lane, repo: Repo) -> None:
    await lane.deliver("pull_request", pull_request())
    assert statuses_at(lane, SHA) == [("success", PASSED)]
    pushed_without_delivery(lane)

    await run_sweep_job(lane)

    assert statuses_at(lane, NEW_HEAD) == [("success", PASSED)]
    assert [run["head_sha"] for run in lane.sent("POST", "/check-runs")] == [SHA, NEW_HEAD]
    evaluation = max(lane.rows(EvaluationRecord), key=lambda row: row.id or 0)
    assert (evaluation.head_sha, evaluation.state) == (NEW_HEAD, "success")
    assert evaluation.delivery_id is not None
    assert evaluation.delivery_id.startswith(f"{CATCH_UP_JOB}:")
    assert catch_ups(lane) == [
        (f"{CATCH_UP_JOB}:acme/bookstore-platform#{NUMBER}:@{NEW_HEAD}", "done")
    ]
    tracked = only(lane.rows(TrackedPullRequest))
    assert tracked.head_sha == NEW_HEAD
    assert tracked.swept_at is not None
    # The run queued its next slot, once across processes.
    assert [job.status for job in lane.jobs(RECONCILE_JOB)] == ["done", "queued"]


async def test_an_up_to_date_pr_costs_one_conditional_read_and_queues_nothing(
    lane: Lane, repo: Repo
) -> None:
    await lane.deliver("pull_request", pull_request())
    lane.reset_calls()

    swept = await sweep(lane.services)

    assert (swept.compared, swept.evaluate, swept.closed) == (1, (), ())
    assert lane.requests() == [f"GET /repos/acme/bookstore-platform/pulls/{NUMBER}"]
    assert catch_ups(lane) == []


async def test_a_catch_up_github_fails_is_tried_again(lane: Lane, repo: Repo) -> None:
    await lane.deliver("pull_request", pull_request())
    pushed_without_delivery(lane)
    await sweep(lane.services)
    repo.down = True  # the catch-up's reads answer 502: the job fails and waits for a retry
    await lane.run_due()
    assert statuses_at(lane, NEW_HEAD) == []
    assert [status for _, status in catch_ups(lane)] == ["queued"]

    repo.down = False
    await lane.run_due_later()

    assert statuses_at(lane, NEW_HEAD) == [("success", PASSED)]
    assert [status for _, status in catch_ups(lane)] == ["done"]


async def test_an_evaluation_that_only_found_github_down_is_no_verdict(
    lane: Lane, repo: Repo
) -> None:
    await lane.deliver("pull_request", pull_request())
    pushed_without_delivery(lane)
    with lane.session() as session:
        session.add(
            EvaluationRecord(
                repo_full_name=REPO, number=NUMBER, head_sha=NEW_HEAD, lane="hotfix",
                state="error", verdicts="[]", evaluated_at=lane.clock.now(),
                description="Cannot evaluate: GitHub API unavailable (502); will retry.",
            )
        )  # fmt: skip
        session.commit()

    swept = await sweep(lane.services)

    assert swept.evaluate == ("acme/bookstore-platform#4321",)


async def test_a_merge_whose_delivery_was_lost_is_recorded_once_even_after_a_failure(
    lane: Lane, repo: Repo
) -> None:
    await lane.deliver("pull_request", pull_request())
    merged = pull_request("pull_request.closed")
    lane.github.pulls[NUMBER] = copy.deepcopy(merged["pull_request"])

    swept = await sweep(lane.services)
    assert swept.closed == ("acme/bookstore-platform#4321",)
    repo.down = True  # GitHub fails the catch-up half-way: the queue retries it
    await lane.run_due()
    assert lane.ledger == []
    repo.down = False
    await lane.run_due_later()

    record = only(lane.ledger)
    assert (record.repo_full_name, record.number) == ("acme/bookstore-platform", NUMBER)
    assert only(lane.rows(TrackedPullRequest)).state == "closed"
    # The closed delivery turning up after all records nothing new; nor does another sweep.
    await lane.deliver("pull_request", merged)
    assert (await sweep(lane.services)).compared == 0
    assert len(lane.ledger) == 1


async def test_ordinary_prs_are_not_compared(lane: Lane, repo: Repo) -> None:
    ordinary = pull_request(title="Add caching to the catalog", labels=[], body="Faster.")
    ordinary["pull_request"]["head"]["ref"] = "feature/cache"
    await lane.deliver("pull_request", ordinary)
    assert only(lane.rows(TrackedPullRequest)).lane == "ordinary"
    lane.reset_calls()

    assert (await sweep(lane.services)).compared == 0
    assert lane.requests() == []


async def test_a_run_is_bounded_and_the_next_one_takes_the_others(lane: Lane, repo: Repo) -> None:
    for number in (NUMBER, NUMBER + 1, NUMBER + 2):
        payload = pull_request(number=number)
        payload["number"] = number
        payload["pull_request"]["head"]["sha"] = f"{number:040x}"
        await lane.deliver("pull_request", payload)
    lane.reset_calls()

    first = await sweep(lane.services, limit=2)
    lane.clock.advance(minutes=30)
    second = await sweep(lane.services, limit=2)

    assert first.compared == second.compared == 2
    asked = [path.rsplit("/", 1)[1] for path in lane.requests("GET") if "/pulls/" in path]
    # Never compared first, then the one compared longest ago.
    assert asked == [str(NUMBER), str(NUMBER + 1), str(NUMBER + 2), str(NUMBER)]


async def test_a_pr_github_will_not_show_does_not_stop_the_others(lane: Lane, repo: Repo) -> None:
    for number in (NUMBER, NUMBER + 1):
        payload = pull_request(number=number)
        payload["number"] = number
        payload["pull_request"]["head"]["sha"] = f"{number:040x}"
        await lane.deliver("pull_request", payload)
    del lane.github.pulls[NUMBER]  # 404: the App lost access, say
    pushed_without_delivery(lane, NUMBER + 1)

    swept = await sweep(lane.services)
    await lane.run_due()

    assert (swept.unreadable, swept.failed) == (("acme/bookstore-platform#4321",), ())
    assert swept.evaluate == ("acme/bookstore-platform#4322",)
    assert statuses_at(lane, NEW_HEAD) == [("success", PASSED)]


@pytest.mark.usefixtures("app_cli_env")
def test_by_hand_deliveries_recover_also_sweeps(
    fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_github.router.get("/app/hook/deliveries").mock(return_value=reply([]))

    assert main(["deliveries", "recover", "--since", "2026-05-19", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sweep"] == {
        "compared": 0,
        "evaluate": [],
        "closed": [],
        "unreadable": [],
        "failed": [],
        "stopped": None,
    }
    assert main(["deliveries", "recover", "--since", "yesterday"]) == 2
    assert "--since 'yesterday' is not a date" in capsys.readouterr().err
