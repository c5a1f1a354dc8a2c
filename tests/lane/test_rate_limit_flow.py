"""The rate limit: three merged hotfixes in seven days, then the next waits for a team review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.store.models import HotfixRecord
from tests.conftest import load_fixture
from tests.fakes.slack_server import FakeSlackServer
from tests.harness import AUDIT_CHANNEL
from tests.lane.conftest import only
from tests.lane.scenario import Lane, Repo, pull_request, review_entry
from tests.rows import hotfix_record

FIRST_MERGE = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def earlier_hotfix(merged_at: datetime, number: int, **changes: Any) -> HotfixRecord:
    """An earlier hotfix of the organisation in acme/inventory, merged by @carol.

    No incident, approver or cleanup owner is named and nothing was bypassed: only its
    organisation, author and merge time count here.
    """
    return hotfix_record(
        merged_at,
        repo_full_name="acme/inventory",
        number=number,
        incident_id=None,
        approver=None,
        cleanup_owner=None,
        merged_by="carol",
        merge_sha=None,
        url=None,
        bypassed=False,
        **changes,
    )


def seed_ledger(lane: Lane, *merged_at: datetime) -> None:
    """Earlier hotfixes of the organisation, by @erin, merged at the given times."""
    for number, at in enumerate(merged_at, start=100):
        lane.record_hotfix(
            earlier_hotfix(
                at,
                number,
                title=f"HOTFIX: INC-2026-05-0{number - 99}-001",
                author="erin",
                head_sha=f"{number:040d}",
            )
        )


def rate_limit_row(summary: str) -> str:
    return next(line for line in summary.splitlines() if line.startswith("| `rate-limit`"))


@pytest.fixture
def three_merged(lane: Lane) -> Lane:
    seed_ledger(lane, FIRST_MERGE, FIRST_MERGE + timedelta(days=1), FIRST_MERGE + timedelta(days=2))
    return lane


async def test_a_fourth_hotfix_fails_until_the_review_team_approves(
    three_merged: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    lane = three_merged
    lane.clock.set(FIRST_MERGE + timedelta(days=5))
    repo.teams["platform-team"] = {"dave"}

    await lane.deliver("pull_request", pull_request())
    status = only(lane.statuses)
    assert status["state"] == "failure"
    assert status["description"].startswith(
        "rate-limit: 3 hotfixes merged in this organisation in 7 days (limit 3)"
    )
    assert only(slack_server.messages_in(AUDIT_CHANNEL)).body["text"] == (
        "RATE LIMIT: 3 hotfixes merged in acme in the last 7 days (limit 3); PR #4321 in "
        "acme/bookstore-platform needs a review by @acme/platform-team before it merges"
    )

    repo.reviews = [review_entry("eve")]
    await lane.deliver("pull_request_review", load_fixture("pull_request_review.submitted"))
    assert lane.statuses[-1]["state"] == "failure"  # eve is not on the review team

    repo.reviews = [review_entry("eve"), review_entry("dave")]
    await lane.deliver("pull_request_review", load_fixture("pull_request_review.submitted"))
    assert lane.statuses[-1]["state"] == "success"
    summary = lane.check_runs[-1]["output"]["summary"]
    assert "team review by @dave" in rate_limit_row(summary)


async def test_a_team_reviewed_comment_by_a_member_unlocks_the_hotfix(
    three_merged: Lane, repo: Repo
) -> None:
    lane = three_merged
    lane.clock.set(FIRST_MERGE + timedelta(days=5))
    repo.teams["platform-team"] = {"carol"}
    await lane.deliver("pull_request", pull_request())
    assert only(lane.statuses)["state"] == "failure"

    await lane.deliver("issue_comment", load_fixture("issue_comment.created"))  # by carol

    assert lane.statuses[-1]["state"] == "success"
    assert lane.sent("POST", "/issues/4321/comments") == []


async def test_a_team_reviewed_comment_by_anyone_else_gets_a_reply(
    three_merged: Lane, repo: Repo
) -> None:
    lane = three_merged
    lane.clock.set(FIRST_MERGE + timedelta(days=5))
    await lane.deliver("pull_request", pull_request())

    await lane.deliver("issue_comment", load_fixture("issue_comment.created"))

    reply = only(lane.sent("POST", "/issues/4321/comments"))
    assert reply["body"].startswith(
        "@carol only members of @acme/platform-team can record a team review with "
        "`/hotfix team-reviewed`."
    )
    assert [s["state"] for s in lane.statuses] == ["failure"]


@pytest.mark.parametrize(
    ("days_after_first", "state"),
    [
        pytest.param(5, "failure", id="the fifth day after the first merge still counts it"),
        pytest.param(8, "success", id="the eighth day after the first merge does not"),
    ],
)
async def test_the_window_is_seven_days(
    three_merged: Lane, days_after_first: int, state: str
) -> None:
    lane = three_merged
    lane.clock.set(FIRST_MERGE + timedelta(days=days_after_first))

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == state


async def test_below_the_limit_no_review_is_read(lane: Lane) -> None:
    seed_ledger(lane, FIRST_MERGE)
    lane.clock.set(FIRST_MERGE + timedelta(days=1))

    await lane.deliver("pull_request", pull_request())

    assert not any("/reviews" in r for r in lane.requests())
    assert only(lane.statuses)["state"] == "success"


async def test_a_second_hotfix_by_the_author_this_quarter_notes_a_process_bug(lane: Lane) -> None:
    lane.record_hotfix(
        earlier_hotfix(FIRST_MERGE, 7, title="HOTFIX: earlier", author="bob", head_sha="7" * 40)
    )
    lane.clock.set(FIRST_MERGE + timedelta(days=20))

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == "success"
    summary = only(lane.sent("POST", "/check-runs"))["output"]["summary"]
    assert "**Process bug?** With this one, @bob has 2 hotfixes in 2026-Q2." in summary


async def test_the_author_commenting_team_reviewed_is_told_they_cannot(
    three_merged: Lane, repo: Repo
) -> None:
    lane = three_merged
    lane.clock.set(FIRST_MERGE + timedelta(days=5))
    repo.teams["platform-team"] = {"bob"}
    await lane.deliver("pull_request", pull_request())
    comment = load_fixture("issue_comment.created")
    comment["comment"]["user"]["login"] = "bob"  # the PR's author

    await lane.deliver("issue_comment", comment)

    reply = only(lane.sent("POST", "/issues/4321/comments"))
    assert reply["body"].startswith("@bob the author of a hotfix cannot record its team review")
    assert [s["state"] for s in lane.statuses] == ["failure"]


async def test_a_merge_re_evaluates_the_other_open_hotfixes(lane: Lane, repo: Repo) -> None:
    merged_at = datetime(2026, 5, 20, 9, 52, 31, tzinfo=UTC)  # pull_request.closed.json
    seed_ledger(lane, merged_at - timedelta(days=2), merged_at - timedelta(days=1))
    lane.clock.set(merged_at + timedelta(minutes=5))
    repo.teams["platform-admins"] = {"carol"}
    # Both PRs name one incident: once #4321 merges #4322 is also a chained hotfix.
    # rules.*.enabled is locked: only the organisation's file may turn a rule off.
    repo.org_policy = "rules: {no-chained-hotfix: {enabled: false}}"
    await lane.deliver("pull_request", pull_request())
    other = pull_request(number=4322)
    other["pull_request"]["head"]["sha"] = "4" * 40
    await lane.deliver("pull_request", other)
    assert [s["state"] for s in lane.statuses] == ["success", "success"]

    await lane.deliver("pull_request", pull_request("pull_request.closed"))

    last = lane.sent("POST", f"/statuses/{'4' * 40}")[-1]
    assert last["state"] == "failure"
    assert last["description"].startswith("rate-limit: 3 hotfixes merged")
