"""Step 6: a hotfix that did not work is reverted; a second hotfix of the incident fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.lane.scenario import Lane, pull_request

MERGED_AT = datetime(2026, 5, 20, 9, 52, 31, tzinfo=UTC)  # pull_request.closed.json
SECOND_SHA = "4" * 40
CHAINED = (
    "no-chained-hotfix: INC-2026-05-20-001 already has a merged hotfix (#4321): revert it, "
    "or declare a new incident for a new fix."
)


async def test_a_second_hotfix_of_a_merged_incident_fails(lane: Lane) -> None:
    lane.clock.set(MERGED_AT + timedelta(minutes=10))
    await lane.deliver("pull_request", pull_request())
    await lane.deliver("pull_request", pull_request("pull_request.closed"))
    second = pull_request(
        number=4322, title="HOTFIX: INC-2026-05-20-001 catalog retry on missing tenant header"
    )
    second["pull_request"]["head"].update(
        ref="hotfix/INC-2026-05-20-001-catalog-retry", sha=SECOND_SHA
    )

    await lane.deliver("pull_request", second)

    status = lane.sent("POST", f"/statuses/{SECOND_SHA}")[-1]
    assert (status["context"], status["state"], status["description"]) == (
        "hotfix-lane/policy",
        "failure",
        CHAINED,
    )
    run = [r for r in lane.check_runs if r.get("head_sha") == SECOND_SHA][-1]
    assert run["output"]["title"] == "1 rule fails: no-chained-hotfix"
    rule, message = CHAINED.split(": ", 1)
    assert f"| `{rule}` | ❌ fail | {message} |" in run["output"]["summary"].splitlines()
